"""checkins

Revision ID: 0010
Revises: 0007
Create Date: 2026-12-01 10:26:51.661634
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import gridline.storage.types


revision = '0010'

down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sweeps',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('grid_codes', sa.JSON().with_variant(sa.JSON(), 'postgresql'), nullable=False),
    sa.Column('tags', sa.JSON().with_variant(sa.JSON(), 'postgresql'), nullable=False),
    sa.Column('started_by', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('created_at', gridline.storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('window_minutes', sa.Float(), nullable=False),
    sa.Column('households', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('sweeps', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sweeps_created_at'), ['created_at'], unique=False)

    op.create_table('checkins',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('sweep_id', sa.Integer(), nullable=True),
    sa.Column('household_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('resident_id', sa.Integer(), nullable=True),
    sa.Column('identity_id', sa.Integer(), nullable=True),
    sa.Column('grid_code', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('cycle', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('due_at', gridline.storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('asked_at', gridline.storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('silent_at', gridline.storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('answered_at', gridline.storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('answer', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True),
    sa.Column('closed_at', gridline.storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('attended_at', gridline.storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('attended_by', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('visit_ref', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('message_ids', sa.JSON().with_variant(sa.JSON(), 'postgresql'), nullable=False),
    sa.Column('created_at', gridline.storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', gridline.storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ),
    sa.ForeignKeyConstraint(['household_id'], ['households.id'], ),
    sa.ForeignKeyConstraint(['identity_id'], ['channel_identities.id'], ),
    sa.ForeignKeyConstraint(['person_id'], ['household_people.id'], ),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], ),
    sa.ForeignKeyConstraint(['sweep_id'], ['sweeps.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('kind', 'person_id', 'cycle', name='uq_checkin_cycle'),
    sa.UniqueConstraint('sweep_id', 'household_id', name='uq_sweep_household')
    )
    with op.batch_alter_table('checkins', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_checkins_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_checkins_due_at'), ['due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_checkins_grid_code'), ['grid_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_checkins_household_id'), ['household_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_checkins_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_checkins_resident_id'), ['resident_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_checkins_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_checkins_sweep_id'), ['sweep_id'], unique=False)

    op.create_table('checkin_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('checkin_id', sa.Integer(), nullable=False),
    sa.Column('at', gridline.storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('data', sa.JSON().with_variant(sa.JSON(), 'postgresql'), nullable=False),
    sa.ForeignKeyConstraint(['checkin_id'], ['checkins.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('checkin_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_checkin_events_checkin_id'), ['checkin_id'], unique=False)

    op.create_table('checkin_steps',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('checkin_id', sa.Integer(), nullable=False),
    sa.Column('stage', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('due_at', gridline.storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('claimed_at', gridline.storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('claimed_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('done_at', gridline.storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
    sa.ForeignKeyConstraint(['checkin_id'], ['checkins.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('checkin_id', 'stage', name='uq_checkin_step')
    )
    with op.batch_alter_table('checkin_steps', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_checkin_steps_checkin_id'), ['checkin_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_checkin_steps_due_at'), ['due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_checkin_steps_status'), ['status'], unique=False)

    with op.batch_alter_table('household_people', schema=None) as batch_op:
        batch_op.add_column(sa.Column('checkin_channel', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True))
        batch_op.add_column(sa.Column('checkin_time', sqlmodel.sql.sqltypes.AutoString(length=5), nullable=True))
        # Existing members are not opted in: an empty list of weekdays.
        batch_op.add_column(sa.Column('checkin_days', sa.JSON().with_variant(sa.JSON(), 'postgresql'), nullable=False,
                                      server_default='[]'))



def downgrade() -> None:
    with op.batch_alter_table('household_people', schema=None) as batch_op:
        batch_op.drop_column('checkin_days')
        batch_op.drop_column('checkin_time')
        batch_op.drop_column('checkin_channel')

    with op.batch_alter_table('checkin_steps', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_checkin_steps_status'))
        batch_op.drop_index(batch_op.f('ix_checkin_steps_due_at'))
        batch_op.drop_index(batch_op.f('ix_checkin_steps_checkin_id'))

    op.drop_table('checkin_steps')
    with op.batch_alter_table('checkin_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_checkin_events_checkin_id'))

    op.drop_table('checkin_events')
    with op.batch_alter_table('checkins', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_checkins_sweep_id'))
        batch_op.drop_index(batch_op.f('ix_checkins_status'))
        batch_op.drop_index(batch_op.f('ix_checkins_resident_id'))
        batch_op.drop_index(batch_op.f('ix_checkins_person_id'))
        batch_op.drop_index(batch_op.f('ix_checkins_household_id'))
        batch_op.drop_index(batch_op.f('ix_checkins_grid_code'))
        batch_op.drop_index(batch_op.f('ix_checkins_due_at'))
        batch_op.drop_index(batch_op.f('ix_checkins_case_id'))

    op.drop_table('checkins')
    with op.batch_alter_table('sweeps', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sweeps_created_at'))

    op.drop_table('sweeps')
