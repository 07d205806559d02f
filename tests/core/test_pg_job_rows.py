"""Gridline writes procrastinate's job rows itself (``storage.pg_job_rows``: in the unit of work's
transaction, or in the webhooks' one statement with their inbox rows), so these tests hold those rows
to the installed procrastinate: the columns its defer function writes, and a row identical to the
one its own ``defer_async`` writes for the same job. An upgrade of procrastinate that changes what a
job row is fails here, not in production."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text

from gridline.kernel.services import Services
from gridline.storage import inbox, pg_job_rows
from gridline.storage.jobs import Job
from gridline.storage.pg_job_app import conninfo

pytestmark = pytest.mark.postgres

# The columns pg_job_rows names in its INSERTs (insert and job_per_row share them).
WRITTEN = {column.strip() for column in pg_job_rows._COLUMNS.strip("()").split(",")}


def _job_rows(services: Services) -> list[dict[str, Any]]:
    """Every job row, without its id (the one column two writers of the same job never share)."""
    with services.db.engine.connect() as connection:
        rows = connection.execute(text("SELECT * FROM procrastinate_jobs ORDER BY id")).mappings().all()
    return [{key: value for key, value in row.items() if key != "id"} for row in rows]


def _clear_jobs(services: Services) -> None:
    with services.db.engine.begin() as connection:
        connection.execute(text("DELETE FROM procrastinate_jobs"))


async def _deferred_by_procrastinate(services: Services, jobs: list[Job]) -> None:
    """Defer ``jobs`` through procrastinate's own API, as Gridline queues them."""
    from procrastinate import App, PsycopgConnector

    app = App(connector=PsycopgConnector(conninfo=conninfo(services.db)))
    async with app.open_async():
        for task, key, run_at, args in jobs:
            deferrer = app.configure_task(task, queue=pg_job_rows.QUEUE, queueing_lock=key,
                                          priority=pg_job_rows.PRIORITY.get(task, 0), schedule_at=run_at)
            await deferrer.defer_async(**args)


def _defer_function_columns(schema: str) -> set[str]:
    """The columns ``procrastinate_defer_jobs_v1`` inserts, read from its SQL (the package's schema
    script, or the function as the database has it)."""
    body = schema[re.search(r"FUNCTION (public\.)?procrastinate_defer_jobs_v1\(", schema).end():]  # type: ignore[union-attr]
    found = re.search(r"INSERT INTO procrastinate_jobs \(([^)]*)\)", body)
    assert found, "procrastinate_defer_jobs_v1 no longer inserts into procrastinate_jobs"
    return {column.strip() for column in found.group(1).split(",")}


async def test_gridline_writes_the_columns_procrastinates_defer_function_writes(make_services) -> None:
    from procrastinate.schema import SchemaManager

    services = await make_services("postgres")
    package = _defer_function_columns(SchemaManager.get_schema())
    with services.db.engine.connect() as connection:
        installed = connection.execute(text(
            "SELECT pg_get_functiondef('procrastinate_defer_jobs_v1'::regproc)")).scalar_one()
        columns = {name: (nullable, default) for name, nullable, default in connection.execute(text(
            "SELECT column_name, is_nullable, column_default FROM information_schema.columns "
            "WHERE table_name = 'procrastinate_jobs'"))}
    assert _defer_function_columns(installed) == package  # the database has this procrastinate's schema
    assert package >= WRITTEN
    # What procrastinate's defer writes and Gridline does not may be left out: NULL or a default.
    for column in package - WRITTEN:
        nullable, default = columns[column]
        assert nullable == "YES" or default is not None, column
    # And the table needs nothing else on insert.
    required = {name for name, (nullable, default) in columns.items() if nullable == "NO" and default is None}
    assert required <= WRITTEN, required - WRITTEN


async def test_the_inbox_and_a_unit_of_work_write_the_rows_procrastinates_defer_writes(make_services) -> None:
    services = await make_services("postgres")
    _clear_jobs(services)
    now = services.clock.now()
    [(event_id, is_new)] = inbox.store_once_queued(services.db.engine, [("test:bot", "1", {"update_id": 1})], now)
    assert is_new
    unit_of_work: list[Job] = [("deliver_page", "page:7:0", None, {"page_id": 7}),
                               ("run_escalation_step", "step:3", now + timedelta(minutes=5), {"step_id": 3})]
    with services.db.session() as session:
        pg_job_rows.insert(session, unit_of_work)
        session.commit()
    ours = _job_rows(services)
    assert [row["queueing_lock"] for row in ours] == [f"inbound:{event_id}", "page:7:0", "step:3"]

    _clear_jobs(services)
    await _deferred_by_procrastinate(
        services, [("process_inbound", f"inbound:{event_id}", None, {"event_id": event_id}), *unit_of_work])
    assert _job_rows(services) == ours
