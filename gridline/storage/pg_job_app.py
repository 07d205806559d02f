"""The procrastinate side of the PostgreSQL job queue: the App whose tasks are the engine's job
functions, its connection pool, and the options its workers run with (``storage.pg_jobs`` runs them)."""

from __future__ import annotations

import asyncio
import os
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import make_url

from gridline.settings import JobsSettings
from gridline.storage.db import PING_AFTER_IDLE_SECONDS, Database
from gridline.storage.jobs import JobHandlers
from gridline.storage.pg_job_rows import DUE_NOW_QUEUE, QUEUE

if TYPE_CHECKING:
    from procrastinate import App


def conninfo(db: Database) -> str:
    """The libpq URL of the database (procrastinate's psycopg pool does not take SQLAlchemy's)."""
    return make_url(db.url).set(drivername="postgresql").render_as_string(hide_password=False)


def _pool_checked_after_idle(**pool_args: Any) -> Any:
    """procrastinate's pool, but a connection is checked (an empty query: a round trip) only when it
    sat in the pool for ``PING_AFTER_IDLE_SECONDS``, as the database's own pool does
    (``storage.db``), instead of before every query: the worker fetches its jobs one at a time, so
    that round trip was paid in series, twice per job. A connection cut under steady use fails
    one query; the worker then starts over with a fresh pool (``PostgresJobQueue.run_worker``)."""
    import weakref

    from psycopg_pool import AsyncConnectionPool

    returned: weakref.WeakKeyDictionary[Any, float] = weakref.WeakKeyDictionary()
    loop_time = asyncio.get_running_loop().time

    async def check(connection: Any) -> None:
        if loop_time() - returned.get(connection, float("-inf")) >= PING_AFTER_IDLE_SECONDS:
            await AsyncConnectionPool.check_connection(connection)

    async def reset(connection: Any) -> None:
        returned[connection] = loop_time()

    pool_args["check"] = check
    pool_args["reset"] = reset
    return AsyncConnectionPool(**pool_args)


def build_app(jobs: JobsSettings, db: Database, handlers: JobHandlers, counter: list[int] | None = None) -> App:
    """A procrastinate App whose tasks are the engine's job functions (a fresh pool each time);
    ``counter[0]`` counts the jobs it ran."""
    from procrastinate import App, JobContext, PsycopgConnector

    workers = jobs.concurrency
    # The queue's own bookkeeping (a job fetched, finished, retried; heartbeats) commits without
    # waiting for the WAL flush: a job whose status a database crash forgets runs again, and
    # every job claims its row, so it does its work once. That wait (~20 ms on a slow disk) was
    # paid twice per job; the jobs' rows themselves are inserted by the units of work, durably.
    app = App(connector=PsycopgConnector(conninfo=conninfo(db), min_size=1, max_size=workers + 4,
                                         kwargs={"options": "-c synchronous_commit=off"},
                                         pool_factory=_pool_checked_after_idle))

    def register(name: str) -> None:
        async def job(context: JobContext, **kwargs: Any) -> None:
            if counter is not None:
                counter[0] += 1
            await handlers.run(name, kwargs)

        app.task(name=name, pass_context=True, queue=QUEUE)(job)

    for name in handlers.names:
        register(name)
    return app


def worker_options(jobs: JobsSettings, *, burst: bool) -> dict[str, Any]:
    """``App.run_worker_async``'s options: a long-running worker on :data:`QUEUE`, or (``burst``)
    one that runs what is in :data:`DUE_NOW_QUEUE` one at a time and returns."""
    return {
        "queues": [DUE_NOW_QUEUE] if burst else [QUEUE],
        "name": f"gridline-{os.getpid()}",
        "concurrency": 1 if burst else jobs.concurrency,
        "wait": not burst,
        "listen_notify": not burst,
        "fetch_job_polling_interval": jobs.queue_poll_seconds,
        "abort_job_polling_interval": 5.0,
        "delete_jobs": "always",  # the rows are the truth; a finished job has nothing to tell
        "install_signal_handlers": False,
        "shutdown_graceful_timeout": jobs.shutdown_grace_seconds,
        "update_heartbeat_interval": jobs.heartbeat_seconds,
        "stalled_worker_timeout": jobs.heartbeat_seconds * 3,
    }
