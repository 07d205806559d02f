"""broadcasts and pacing

Revision ID: 0011
Revises: 0008
Create Date: 2026-12-01 10:27:45.938325
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import gridline.storage.types


revision = '0011'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('broadcasts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('starts_at', gridline.storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('ends_at', gridline.storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('grid_codes', sa.JSON().with_variant(sa.JSON(), 'postgresql'), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('created_at', gridline.storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sending_at', gridline.storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('done_at', gridline.storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('cancelled_at', gridline.storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('recipient_count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('broadcasts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_broadcasts_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_broadcasts_status'), ['status'], unique=False)

    op.create_table('pacing_lanes',
    sa.Column('lane', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('next_free_at', gridline.storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', gridline.storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('lane')
    )
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False,
                                      server_default='reply'))
        batch_op.add_column(sa.Column('lane', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True))
        batch_op.add_column(sa.Column('broadcast_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_messages_broadcast_id'), ['broadcast_id'], unique=False)
        batch_op.create_foreign_key('fk_messages_broadcast_id', 'broadcasts', ['broadcast_id'], ['id'])



def downgrade() -> None:
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_constraint('fk_messages_broadcast_id', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_messages_broadcast_id'))
        batch_op.drop_column('broadcast_id')
        batch_op.drop_column('lane')
        batch_op.drop_column('kind')

    op.drop_table('pacing_lanes')
    with op.batch_alter_table('broadcasts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_broadcasts_status'))
        batch_op.drop_index(batch_op.f('ix_broadcasts_created_at'))

    op.drop_table('broadcasts')
