"""conversation state kept on the conversation row (the truth; Redis no longer holds it)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 07:40:00
"""
from alembic import op
import sqlalchemy as sa
import gridline.storage.types


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('state', sa.JSON().with_variant(sa.JSON(), 'postgresql'), nullable=True))
        batch_op.add_column(sa.Column('state_expires_at', gridline.storage.types.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.drop_column('state_expires_at')
        batch_op.drop_column('state')
