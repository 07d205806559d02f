"""staff web inbox: push subscriptions and one-time sign-in links

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 07:40:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import gridline.storage.types


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('push_subscriptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('endpoint', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('p256dh', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('auth', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('user_agent', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
    sa.Column('created_at', gridline.storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_push_at', gridline.storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('push_subscriptions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_push_subscriptions_endpoint'), ['endpoint'], unique=True)
        batch_op.create_index(batch_op.f('ix_push_subscriptions_staff_id'), ['staff_id'], unique=False)

    op.create_table('inbox_login_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('created_at', gridline.storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', gridline.storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', gridline.storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('inbox_login_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inbox_login_links_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_inbox_login_links_staff_id'), ['staff_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_inbox_login_links_token_hash'), ['token_hash'], unique=True)


def downgrade() -> None:
    op.drop_table('inbox_login_links')
    op.drop_table('push_subscriptions')
