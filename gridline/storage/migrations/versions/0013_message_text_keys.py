"""outbound messages keep their catalogue key and facts beside the rendered text

The core answers with message keys and facts (``Reply(key, params)``); the row keeps them so the
sending channel renders its own variant (the voice hotline speaks, SMS squeezes) while the console
shows ``text``. Rows written before have none and are sent as their text.

Revision ID: 0013
Revises: 0012
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('text_key', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True))
        batch_op.add_column(sa.Column('text_params', sa.JSON().with_variant(sa.JSON(), 'postgresql'), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_column('text_params')
        batch_op.drop_column('text_key')
