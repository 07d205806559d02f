"""directory versions: a token per part of the directory, changed by triggers on every write

Each process keeps the grids, staff, contact methods and duty rota in memory and checks these
tokens once per unit of work (``gridline.storage.directory_cache``).

Revision ID: 0014
Revises: 0013
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

_TABLES = ("grids", "addresses", "staff", "contact_methods", "duty_shifts", "duty_overrides")


def upgrade() -> None:
    from gridline.storage.directory_cache import install_triggers

    op.create_table('directory_versions',
    sa.Column('part', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('token', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.PrimaryKeyConstraint('part')
    )
    install_triggers(op.get_bind())


def downgrade() -> None:
    bind = op.get_bind()
    for table in _TABLES:
        if bind.dialect.name == "postgresql":
            op.execute(f"DROP TRIGGER IF EXISTS {table}_directory_changed ON {table}")
        else:
            for what in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_directory_changed_{what}")
    if bind.dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS gridline_directory_changed()")
    op.drop_table('directory_versions')
