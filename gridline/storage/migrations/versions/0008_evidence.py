"""evidence and follow-up calls

Revision ID: 0008
Revises: 0009
Create Date: 2026-12-01 10:45:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import gridline.storage.types


revision = '0008'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('evidence',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('content_type', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=True),
    sa.Column('created_at', gridline.storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('purged_at', gridline.storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('case_id', 'sha256', name='uq_evidence_case_sha256')
    )
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evidence_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_evidence_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_evidence_sha256'), ['sha256'], unique=False)

    op.create_table('follow_up_calls',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('follow_up_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('placed_by', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('placed_at', gridline.storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status_at', gridline.storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('call_sid', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('rating', sa.Integer(), nullable=True),
    sa.Column('error', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ),
    sa.ForeignKeyConstraint(['follow_up_id'], ['follow_ups.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('follow_up_calls', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_follow_up_calls_call_sid'), ['call_sid'], unique=False)
        batch_op.create_index(batch_op.f('ix_follow_up_calls_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_follow_up_calls_follow_up_id'), ['follow_up_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('follow_up_calls', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_follow_up_calls_follow_up_id'))
        batch_op.drop_index(batch_op.f('ix_follow_up_calls_case_id'))
        batch_op.drop_index(batch_op.f('ix_follow_up_calls_call_sid'))
    op.drop_table('follow_up_calls')
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evidence_sha256'))
        batch_op.drop_index(batch_op.f('ix_evidence_created_at'))
        batch_op.drop_index(batch_op.f('ix_evidence_case_id'))
    op.drop_table('evidence')
