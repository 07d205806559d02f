"""procrastinate's schema in Gridline's database: installed, narrowed and removed by the migrations.

The job queue itself (inserting, running, recovering jobs) is ``storage.pg_jobs``; this module only
knows the tables, functions and triggers procrastinate's workers need, and the one change Gridline
makes to them (its insert trigger wakes workers only for jobs due now).
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Connection


def job_schema_installed(connection: Connection) -> bool:
    return bool(connection.execute(text("SELECT to_regclass('procrastinate_jobs') IS NOT NULL")).scalar())


def install_job_schema(connection: Connection) -> None:
    """Create procrastinate's tables, functions and triggers unless they exist (migrations, tests)."""
    from procrastinate.schema import SchemaManager

    if job_schema_installed(connection):
        return
    # The schema is one script with PL/pgSQL bodies: run it as is on the raw DBAPI cursor.
    cursor = connection.connection.cursor()
    cursor.execute(SchemaManager.get_schema())
    cursor.close()
    quiet_future_inserts(connection)


# procrastinate's trigger NOTIFYs the workers of every job inserted, and each notified worker with a
# free slot fetches at once. A job due later is not fetched then (the fetch finds nothing due: one
# wasted statement and wake-up per job, two or three a report — the copies of the jobs run here, due
# ``RUN_HERE_GRACE_SECONDS`` later, and each case's next escalation step); the worker's poll
# (``jobs.queue_poll_seconds``) finds it when it is due, as it did anyway. So only a job due within a
# second of the inserting statement (the second absorbs the app's and the database's clocks
# disagreeing) wakes anyone. Same trigger name and function as procrastinate's: only its WHEN changed.
_NOTIFY_TRIGGER = "procrastinate_jobs_notify_queue_job_inserted_v1"
_NOTIFY_ALWAYS = "new.status = 'todo'::procrastinate_job_status"
_NOTIFY_WHEN_DUE = (_NOTIFY_ALWAYS + " AND (new.scheduled_at IS NULL"
                    " OR new.scheduled_at <= statement_timestamp() + interval '1 second')")


def _notify_when(connection: Connection, when: str) -> None:
    connection.execute(text(f"DROP TRIGGER IF EXISTS {_NOTIFY_TRIGGER} ON procrastinate_jobs"))
    connection.execute(text(
        f"CREATE TRIGGER {_NOTIFY_TRIGGER} AFTER INSERT ON procrastinate_jobs FOR EACH ROW "
        f"WHEN ({when}) EXECUTE PROCEDURE procrastinate_notify_queue_job_inserted_v1()"
    ))


def quiet_future_inserts(connection: Connection) -> None:
    """Inserting a job due later NOTIFYs nobody (migration 0016; see ``_NOTIFY_WHEN_DUE``)."""
    _notify_when(connection, _NOTIFY_WHEN_DUE)


def notify_every_insert(connection: Connection) -> None:
    """procrastinate's own trigger back (migration 0016's downgrade)."""
    _notify_when(connection, _NOTIFY_ALWAYS)


def uninstall_job_schema(connection: Connection) -> None:
    """Drop procrastinate's objects (the migration's downgrade): its functions, tables and types."""
    connection.execute(text(
        """
        DO $$ DECLARE f regprocedure; BEGIN
          FOR f IN SELECT oid::regprocedure FROM pg_proc WHERE proname LIKE 'procrastinate\\_%' LOOP
            EXECUTE 'DROP FUNCTION IF EXISTS ' || f || ' CASCADE';
          END LOOP;
        END $$;
        DROP TABLE IF EXISTS procrastinate_events, procrastinate_periodic_defers, procrastinate_jobs,
          procrastinate_workers CASCADE;
        DROP TYPE IF EXISTS procrastinate_job_to_defer_v1, procrastinate_job_event_type,
          procrastinate_job_status CASCADE;
        """
    ))


def is_job_table(name: str | None) -> bool:
    """procrastinate's tables belong to its schema, not to Gridline's models (Alembic skips them)."""
    return bool(name and name.startswith("procrastinate_"))
