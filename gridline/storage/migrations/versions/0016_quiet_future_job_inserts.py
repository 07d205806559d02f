"""a job inserted due later wakes no worker (procrastinate's insert trigger, WHEN narrowed)

procrastinate NOTIFYs the workers of every job inserted; a worker then fetches at once and, for a job
due later (the queued copy of a job run in the task that queued it, an escalation step minutes
away), finds nothing: a wasted statement and wake-up per such job. Its poll finds the job when due.
The trigger now fires only for a job due within a second (``storage.pg_job_schema.quiet_future_inserts``).

Revision ID: 0016
Revises: 0015
"""
from alembic import op

from gridline.storage.pg_job_schema import job_schema_installed, notify_every_insert, quiet_future_inserts

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql" and job_schema_installed(bind):
        quiet_future_inserts(bind)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql" and job_schema_installed(bind):
        notify_every_insert(bind)
