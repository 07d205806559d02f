"""household roster

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 08:00:24.185911
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import gridline.storage.types


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('households',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('grid_code', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('building', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('unit', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('room', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('address_id', sa.Integer(), nullable=True),
    sa.Column('address_text', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
    sa.Column('tags', sa.JSON().with_variant(sa.JSON(), 'postgresql'), nullable=False),
    sa.Column('consent_checkin', sa.Boolean(), nullable=False),
    sa.Column('consent_family', sa.Boolean(), nullable=False),
    sa.Column('helper_name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('helper_phone', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('notes', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
    sa.Column('lang', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('created_at', gridline.storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', gridline.storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('removed_at', gridline.storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['address_id'], ['addresses.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('grid_code', 'building', 'unit', 'room', name='uq_household_room')
    )
    with op.batch_alter_table('households', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_households_grid_code'), ['grid_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_households_removed_at'), ['removed_at'], unique=False)

    op.create_table('household_people',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('phone', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('relation', sqlmodel.sql.sqltypes.AutoString(length=50), nullable=True),
    sa.Column('resident_id', sa.Integer(), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['household_id'], ['households.id'], ),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('household_people', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_household_people_household_id'), ['household_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('household_people', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_household_people_household_id'))

    op.drop_table('household_people')
    with op.batch_alter_table('households', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_households_removed_at'))
        batch_op.drop_index(batch_op.f('ix_households_grid_code'))

    op.drop_table('households')
