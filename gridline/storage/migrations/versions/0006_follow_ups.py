"""follow ups

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 08:51:56.493925
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import gridline.storage.types


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('follow_ups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('created_at', gridline.storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('handled_by', sa.JSON().with_variant(sa.JSON(), 'postgresql'), nullable=False),
    sa.Column('called_at', gridline.storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('called_by', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('follow_ups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_follow_ups_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_follow_ups_created_at'), ['created_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('follow_ups', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_follow_ups_created_at'))
        batch_op.drop_index(batch_op.f('ix_follow_ups_case_id'))

    op.drop_table('follow_ups')
