"""drop the unused escalation_policies table

Policies come from config and are snapshotted onto each case (``cases.policy``); nothing ever read
or wrote this table.

Revision ID: 0012
Revises: 0010
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import gridline.storage.types


revision = '0012'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_table('escalation_policies')


def downgrade() -> None:
    op.create_table('escalation_policies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('priority', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('steps', sa.JSON().with_variant(sa.JSON(), 'postgresql'), nullable=False),
    sa.Column('repeat', sa.Integer(), nullable=False),
    sa.Column('updated_at', gridline.storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('priority')
    )
