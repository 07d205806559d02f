"""visits (走千家) and cases found proactively (主动发现)

Revision ID: 0009
Revises: 0006
Create Date: 2026-12-01 10:29:56.112531
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import gridline.storage.types


revision = '0009'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('visit_digests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('day', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('sent_at', gridline.storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('staff_id', 'day', name='uq_visit_digest')
    )
    with op.batch_alter_table('visit_digests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_visit_digests_staff_id'), ['staff_id'], unique=False)

    op.create_table('visits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=False),
    sa.Column('grid_code', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('rule', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('due_at', gridline.storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_at', gridline.storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', gridline.storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('next_at', gridline.storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('step', sa.Integer(), nullable=False),
    sa.Column('missed_at', gridline.storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('escalated_at', gridline.storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('done_at', gridline.storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('done_by', sa.Integer(), nullable=True),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ),
    sa.ForeignKeyConstraint(['done_by'], ['staff.id'], ),
    sa.ForeignKeyConstraint(['household_id'], ['households.id'], ),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_visits_done_at'), ['done_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_visits_due_at'), ['due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_visits_grid_code'), ['grid_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_visits_household_id'), ['household_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_visits_next_at'), ['next_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_visits_staff_id'), ['staff_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_visits_status'), ['status'], unique=False)

    op.create_table('visit_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('visit_id', sa.Integer(), nullable=False),
    sa.Column('at', gridline.storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('data', sa.JSON().with_variant(sa.JSON(), 'postgresql'), nullable=False),
    sa.ForeignKeyConstraint(['visit_id'], ['visits.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('visit_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_visit_events_visit_id'), ['visit_id'], unique=False)

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('proactive', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.create_index(batch_op.f('ix_cases_proactive'), ['proactive'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cases_proactive'))
        batch_op.drop_column('proactive')

    with op.batch_alter_table('visit_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_visit_events_visit_id'))

    op.drop_table('visit_events')
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_visits_status'))
        batch_op.drop_index(batch_op.f('ix_visits_staff_id'))
        batch_op.drop_index(batch_op.f('ix_visits_next_at'))
        batch_op.drop_index(batch_op.f('ix_visits_household_id'))
        batch_op.drop_index(batch_op.f('ix_visits_grid_code'))
        batch_op.drop_index(batch_op.f('ix_visits_due_at'))
        batch_op.drop_index(batch_op.f('ix_visits_done_at'))

    op.drop_table('visits')
    with op.batch_alter_table('visit_digests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_visit_digests_staff_id'))

    op.drop_table('visit_digests')
