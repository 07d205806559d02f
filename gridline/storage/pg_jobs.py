"""Jobs in PostgreSQL, run by procrastinate workers (``gridline worker``).

A job is a row in procrastinate's ``procrastinate_jobs`` table. Gridline inserts it itself, through
the unit of work's own session, so the job commits (or rolls back) with the row it serves: a job can
no longer be lost between the commit and the queue. The insert fires procrastinate's NOTIFY trigger,
which wakes a listening worker at once; a job deferred to later (an escalation step's due time) is
found by the worker's poll (``jobs.queue_poll_seconds``). ``queueing_lock`` is Gridline's job key,
so a row has at most one waiting job however often it is queued.

Workers register with a heartbeat; a worker that vanished (SIGKILL, lost machine) leaves its jobs
"doing", and the others put them back in the queue (``recover_stalled``). The rows' own claims and
leases still decide who does the work, so a job that runs twice does it once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import threading
from collections.abc import Collection
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlmodel import Session

from gridline.clock import Clock
from gridline.settings import Settings
from gridline.storage.db import PING_AFTER_IDLE_SECONDS, Database
from gridline.storage.jobs import IngestGauge, Job, JobHandlers
from gridline.storage.pg_job_schema import job_schema_installed
from gridline.storage.prepared import Prepared

if TYPE_CHECKING:
    from procrastinate import App


log = logging.getLogger(__name__)

QUEUE = "gridline"
# ``run_due`` (tests, benchmarks) moves the jobs due at the injected clock's now to this queue and
# runs only it, so a fake clock decides what is due rather than PostgreSQL's ``now()``.
DUE_NOW_QUEUE = "gridline-due-now"

# One waiting job per key: a second insert keeps the earlier due time (NULL is "now"). Run as a
# ``storage.prepared.Prepared`` statement on the unit of work's connection (compiled once; no ORM
# execute; still one statement the engine's events see), one statement for all of a unit of work's
# jobs (the rows deduplicated by key first: one statement cannot insert a key twice).
_COLUMNS = "(queue_name, task_name, priority, queueing_lock, args, scheduled_at)"
_ON_CONFLICT = (
    " ON CONFLICT (queueing_lock) WHERE status = 'todo'"
    " DO UPDATE SET scheduled_at = EXCLUDED.scheduled_at"
    " WHERE procrastinate_jobs.scheduled_at IS NOT NULL"
    " AND (EXCLUDED.scheduled_at IS NULL OR EXCLUDED.scheduled_at < procrastinate_jobs.scheduled_at)"
)
# The waiting copies of jobs that ran in the task that queued them (``kernel.work.RUN_HERE``) leave
# the queue in the same statement: a data-modifying CTE before the INSERT (the two never share a key:
# ``stage`` sends them apart when they would).
_UNSTAGE_SQL = ("DELETE FROM procrastinate_jobs WHERE queueing_lock = ANY(:unstage) AND status = 'todo'"
                " AND queue_name = ANY(:queues)")
_UNSTAGE_CTE = f"WITH unstaged AS ({_UNSTAGE_SQL}) "
_UNSTAGE = Prepared(text(_UNSTAGE_SQL))
_QUEUES = [QUEUE, DUE_NOW_QUEUE]
# A job run here whose queued copy no statement of this process took along meanwhile is deleted by
# a statement of its own this long after (well inside ``kernel.work.RUN_HERE_GRACE_SECONDS``, before
# which no worker fetches it).
UNSTAGE_FLUSH_SECONDS = 1.0

_insert_sql: dict[tuple[int, bool], Prepared] = {}


def _insert_statement(rows: int, unstaging: bool) -> Prepared:
    """The INSERT of ``rows`` jobs (params ``q0, t0, p0, k0, a0, s0, q1, …``), with the CTE when
    ``unstaging``; built once per shape."""
    found = _insert_sql.get((rows, unstaging))
    if found is None:
        values = ", ".join(f"(:q{i}, :t{i}, :p{i}, :k{i}, CAST(:a{i} AS jsonb), :s{i})" for i in range(rows))
        sql = (_UNSTAGE_CTE if unstaging else "") + f"INSERT INTO procrastinate_jobs {_COLUMNS} VALUES {values}"
        found = _insert_sql[(rows, unstaging)] = Prepared(text(sql + _ON_CONFLICT))
    return found


def _one_per_key(jobs: list[Job]) -> list[Job]:
    """What inserting ``jobs`` one after another leaves: per key the first job's task and arguments,
    due at the earliest of their times (None, "now", is the earliest)."""
    by_key: dict[str, Job] = {}
    for job in jobs:
        _name, key, run_at, _kwargs = job
        first = by_key.get(key)
        if first is None:
            by_key[key] = job
        elif first[2] is not None and (run_at is None or run_at < first[2]):
            by_key[key] = (first[0], key, run_at, first[3])
    return list(by_key.values())


def _params(jobs: list[Job], queue: str = QUEUE) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for i, (name, key, run_at, kwargs) in enumerate(jobs):
        params[f"q{i}"] = queue
        params[f"t{i}"] = name
        params[f"p{i}"] = PRIORITY.get(name, 0)
        params[f"k{i}"] = key
        params[f"a{i}"] = json.dumps(kwargs)
        params[f"s{i}"] = run_at
    return params

# Workers take the job of highest priority first (then the oldest): the jobs nearest to a page
# first, so under a backlog of stored messages a report whose case is open is paged (and answered)
# next, instead of after every message stored before its case's step was queued.
PRIORITY = {"deliver_page": 30, "update_page": 30, "run_escalation_step": 20, "deliver_message": 10,
            "process_inbound": 0}


def conninfo(db: Database) -> str:
    """The libpq URL of the database (procrastinate's psycopg pool does not take SQLAlchemy's)."""
    return make_url(db.url).set(drivername="postgresql").render_as_string(hide_password=False)


def _pool_checked_after_idle(**pool_args: Any) -> Any:
    """procrastinate's pool, but a connection is checked (an empty query: a round trip) only when it
    sat in the pool for ``PING_AFTER_IDLE_SECONDS``, as the database's own pool does
    (``storage.db``), instead of before every query: the worker fetches its jobs one at a time, so
    that round trip was paid in series, twice per job. A connection cut under steady use fails
    one query; the worker then starts over with a fresh pool (``run_worker``)."""
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


class PostgresJobQueue:
    """The job queue of a PostgreSQL deployment (any number of ``serve`` and ``worker`` processes)."""

    transactional = True

    def __init__(self, settings: Settings, clock: Clock, db: Database) -> None:
        self._settings = settings
        self._clock = clock
        self._db = db
        self._burst_app: App | None = None
        self._burst_ran = [0]  # jobs the burst worker ran (its task functions count them)
        self._in_process: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()
        self.ingest = IngestGauge()  # counted by the inbox writer; workers run in their own processes
        # Keys of jobs run here whose waiting copies are still to delete (``unstage_later``).
        self._ran_here: list[str] = []
        self._ran_here_lock = threading.Lock()
        self._flush_timer: asyncio.TimerHandle | None = None
        self._flush_task: asyncio.Task[None] | None = None

    # --- queueing ---------------------------------------------------------------------------

    def stage(self, session: Session, jobs: list[Job], unstage: Collection[str] = ()) -> list[str]:
        """Insert ``jobs`` in the session's transaction, in one statement that also deletes the
        waiting copies of ``unstage`` (the job running here: ``kernel.work.RUN_HERE``) and of the
        jobs run here earlier whose copies are still queued (:meth:`unstage_later`). Returns the
        latter, taken from this process's list: give them back (:meth:`unstage_later`) if the
        transaction does not commit."""
        taken = self._take_ran_here()
        keys = [*unstage, *taken]
        jobs = _one_per_key(jobs)
        try:
            if keys and not {job[1] for job in jobs}.isdisjoint(keys):
                # A key deleted and inserted again: one statement cannot do both to the same row.
                _UNSTAGE.run(session, {"unstage": keys, "queues": _QUEUES})
                keys = []
            if jobs:
                params = _params(jobs)
                if keys:
                    params["unstage"], params["queues"] = keys, _QUEUES
                _insert_statement(len(jobs), bool(keys)).run(session, params)
            elif keys:
                _UNSTAGE.run(session, {"unstage": keys, "queues": _QUEUES})
        except BaseException:
            with self._ran_here_lock:  # not deleted after all: for a later statement
                self._ran_here.extend(taken)
            raise
        return taken

    def unstage_later(self, keys: Collection[str]) -> None:
        """The jobs of ``keys`` ran here (``kernel.work.RUN_HERE``) and their first unit of work
        committed: delete their waiting copies with this process's next job INSERT (:meth:`stage`,
        no statement of their own), or by one DELETE within :data:`UNSTAGE_FLUSH_SECONDS` when no
        INSERT comes. Until then a copy is due ``RUN_HERE_GRACE_SECONDS`` after its insert, so no
        worker fetches it; one a worker fetched meanwhile runs there too, and its row's claim makes
        that a no-op (as for a copy this process never got to delete: a crash, a lost connection)."""
        if not keys:
            return
        with self._ran_here_lock:
            self._ran_here.extend(keys)
        if self._flush_timer is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                return  # no loop (a blocking caller): the next INSERT or ``run_due`` takes them
            self._flush_timer = loop.call_later(UNSTAGE_FLUSH_SECONDS, self._start_flush)

    def _take_ran_here(self) -> list[str]:
        if not self._ran_here:
            return []
        with self._ran_here_lock:
            taken, self._ran_here = self._ran_here, []
        return taken

    def _start_flush(self) -> None:
        self._flush_timer = None
        if self._ran_here and (self._flush_task is None or self._flush_task.done()):
            self._flush_task = asyncio.create_task(self.flush_unstaged(), name="gridline-unstage")

    async def flush_unstaged(self) -> None:
        """Delete now the waiting copies :meth:`unstage_later` holds (one statement, autocommit)."""
        if self._ran_here:
            try:
                await self._db.run(self._delete_ran_here)
            except Exception as exc:  # their copies run as no-ops after the grace: nothing is lost
                log.warning("deleting the queued copies of jobs run here failed (%s: %s)", type(exc).__name__, exc)

    def _delete_ran_here(self) -> None:
        keys = self._take_ran_here()
        if keys:
            with self._db.statement_session() as session:
                _UNSTAGE.run(session, {"unstage": keys, "queues": _QUEUES})

    async def enqueue(self, name: str, key: str, run_at: datetime | None = None, **kwargs: Any) -> None:
        taken: list[str] = []

        def insert() -> None:
            with self._db.session() as session:
                taken.extend(self.stage(session, [(name, key, run_at, kwargs)]))

        try:
            await self._db.run(insert)
        except BaseException:
            self.unstage_later(taken)  # rolled back: their copies are still queued
            raise

    def pending(self) -> int:
        """Jobs waiting to run (tests)."""
        self._delete_ran_here()
        with self._db.engine.connect() as connection:
            return int(
                connection.execute(text("SELECT count(*) FROM procrastinate_jobs WHERE status = 'todo'")).scalar()
                or 0
            )

    # --- running ----------------------------------------------------------------------------

    def _app(self, handlers: JobHandlers, counter: list[int] | None = None) -> App:
        """A procrastinate App whose tasks are the engine's job functions (a fresh pool each time)."""
        from procrastinate import App, JobContext, PsycopgConnector

        workers = self._settings.jobs.concurrency
        # The queue's own bookkeeping (a job fetched, finished, retried; heartbeats) commits without
        # waiting for the WAL flush: a job whose status a database crash forgets runs again, and
        # every job claims its row, so it does its work once. That wait (~20 ms on a slow disk) was
        # paid twice per job; the jobs' rows themselves are inserted by the units of work, durably.
        app = App(connector=PsycopgConnector(conninfo=conninfo(self._db), min_size=1, max_size=workers + 4,
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

    def _worker_options(self, handlers: JobHandlers, *, burst: bool) -> dict[str, Any]:
        jobs = self._settings.jobs
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

    async def run_due(self, handlers: JobHandlers) -> int:
        await self.flush_unstaged()  # a fake clock moved on may make their copies due: gone first
        if self._burst_app is None:
            self._burst_app = self._app(handlers, counter=self._burst_ran)
            await self._burst_app.open_async()
        app = self._burst_app
        ran = 0
        for _ in range(1000):
            await handlers.reconcile()
            moved = await self._db.run(self._move_due, self._clock.now())
            if moved == 0:
                break
            before = self._burst_ran[0]
            await app.run_worker_async(**self._worker_options(handlers, burst=True))
            ran += self._burst_ran[0] - before
        return ran

    def _move_due(self, now: datetime) -> int:
        with self._db.session() as session:
            result = session.execute(
                text(
                    "UPDATE procrastinate_jobs SET queue_name = :due, scheduled_at = NULL "
                    "WHERE status = 'todo' AND queue_name = :queue AND (scheduled_at IS NULL OR scheduled_at <= :now)"
                ),
                {"due": DUE_NOW_QUEUE, "queue": QUEUE, "now": now},
            )
            return int(result.rowcount)  # type: ignore[attr-defined]

    async def run_worker(self, handlers: JobHandlers, stop: asyncio.Event) -> None:
        """Run jobs until ``stop`` is set. A lost database is waited out (backoff), never fatal."""
        delay = 1.0
        loop = asyncio.get_running_loop()
        while not stop.is_set():
            started = loop.time()
            attempt = asyncio.create_task(self._work_until(handlers, stop), name="gridline-job-worker")
            stopping = asyncio.create_task(stop.wait())
            await asyncio.wait({attempt, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if not attempt.done():
                # Stopping: the worker finishes (or gives back) what it runs within the grace period;
                # if it is stuck connecting to a database that is gone, it is cancelled.
                done, _ = await asyncio.wait({attempt}, timeout=self._settings.jobs.shutdown_grace_seconds + 1)
                if not done:
                    attempt.cancel()
            stopping.cancel()
            try:
                await attempt
            except asyncio.CancelledError:
                if not stop.is_set():
                    raise
            except Exception as exc:
                log.warning("the job worker lost its database (%s: %s); again in %.0f s",
                            type(exc).__name__, exc, delay)
            if stop.is_set():
                break
            if loop.time() - started > 60:
                delay = 1.0  # it ran for a while: this is a new outage, start the backoff again
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=delay)
            delay = min(delay * 2, 30.0)

    async def _work_until(self, handlers: JobHandlers, stop: asyncio.Event) -> None:
        app = self._app(handlers)
        async with app.open_async():
            worker = asyncio.create_task(app.run_worker_async(**self._worker_options(handlers, burst=False)))
            recovery = asyncio.create_task(self._recover_forever(handlers, app))
            stopping = asyncio.create_task(stop.wait())
            try:
                await asyncio.wait({worker, stopping}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                recovery.cancel()
                stopping.cancel()
                if not worker.done():
                    worker.cancel()  # procrastinate stops fetching and lets running jobs finish
                with contextlib.suppress(asyncio.CancelledError):
                    await worker
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await recovery
            if not stop.is_set():
                # The worker stops itself when a side task (the listener, the heartbeat) lost the
                # database: start over with a fresh pool.
                raise ConnectionError("the procrastinate worker stopped")

    async def _recover_forever(self, handlers: JobHandlers, app: App) -> None:
        """The safety net beside the worker: stalled jobs back to the queue, due rows without a job."""
        while True:
            try:
                await self.recover_stalled(app)
                await handlers.reconcile(grace_seconds=self._settings.jobs.reconcile_grace_seconds)
            except Exception:
                log.warning("the safety-net pass failed", exc_info=True)
            await asyncio.sleep(self._settings.jobs.reconcile_seconds)

    async def recover_stalled(self, app: App) -> int:
        """Put back in the queue the jobs of workers that stopped sending heartbeats."""
        seconds = self._settings.jobs.heartbeat_seconds * 3
        recovered = 0
        for job in await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=seconds):
            assert job.id is not None
            try:
                await app.job_manager.retry_job(job)
                recovered += 1
            except Exception:
                # Its key already has a waiting job (the reconciler queued the row again): drop it.
                await self._db.run(self._delete_job, job.id)
        if recovered:
            log.info("put %d stalled jobs back in the queue", recovered)
        return recovered

    def _delete_job(self, job_id: int) -> None:
        with self._db.session() as session:
            session.execute(text("DELETE FROM procrastinate_jobs WHERE id = :id AND status = 'doing'"), {"id": job_id})

    async def start_in_process(self, handlers: JobHandlers) -> None:
        """``gridline serve`` with ``jobs.run_in_serve``: a worker inside the web process."""
        if self._in_process is None:
            self._stop = asyncio.Event()
            self._in_process = asyncio.create_task(self.run_worker(handlers, self._stop), name="gridline-jobs")

    async def workers_alive(self) -> int:
        """Workers whose heartbeat is recent (``/healthz``): zero means jobs are not being run."""
        seconds = self._settings.jobs.heartbeat_seconds * 3

        def count() -> int:
            with self._db.engine.connect() as connection:
                return int(connection.execute(text(
                    "SELECT count(*) FROM procrastinate_workers "
                    "WHERE last_heartbeat > now() - make_interval(secs => :seconds)"), {"seconds": seconds}
                ).scalar() or 0)

        return await self._db.run(count)

    async def ping(self) -> bool:
        def check() -> bool:
            with self._db.engine.connect() as connection:
                return job_schema_installed(connection)

        return await self._db.run(check)

    async def close(self) -> None:
        if self._flush_timer is not None:
            self._flush_timer.cancel()
            self._flush_timer = None
        with contextlib.suppress(Exception):
            await self.flush_unstaged()
        if self._in_process is not None:
            self._stop.set()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._in_process
            self._in_process = None
        if self._burst_app is not None:
            with contextlib.suppress(Exception):
                await self._burst_app.close_async()
            self._burst_app = None

