"""the job queue in PostgreSQL: procrastinate's schema

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 08:00:00

On PostgreSQL, jobs live in procrastinate's tables, inserted in the same transaction as the rows
they serve. Its schema is procrastinate's own script (pinned to procrastinate 3.x in pyproject);
a later procrastinate release that changes it ships SQL migrations, applied by a new revision here.
SQLite deployments keep jobs in the process and need nothing.
"""
from alembic import op

from gridline.storage.pg_job_schema import install_job_schema, uninstall_job_schema

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        install_job_schema(bind)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        uninstall_job_schema(bind)
