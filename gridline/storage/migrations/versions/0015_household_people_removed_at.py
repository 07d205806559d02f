"""household members leave the roster by a time, not by deleting their row

A roster re-import keeps the rows of the people it lists again (their check-ins point at them) and
stamps ``removed_at`` on the members and family it no longer lists (docs/import-formats.md).

Revision ID: 0015
Revises: 0014
"""
from alembic import op
import sqlalchemy as sa

import gridline.storage.types


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('household_people', schema=None) as batch_op:
        batch_op.add_column(sa.Column('removed_at', gridline.storage.types.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('household_people', schema=None) as batch_op:
        batch_op.drop_column('removed_at')
