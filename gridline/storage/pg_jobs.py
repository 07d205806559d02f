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

The statements on procrastinate's tables are ``storage.pg_job_rows``; the procrastinate App, its
pool and its workers' options ``storage.pg_job_app``; this module is the queue that uses them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Collection
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlmodel import Session

from gridline.clock import Clock
from gridline.settings import Settings
from gridline.storage import pg_job_rows
from gridline.storage.db import Database
from gridline.storage.jobs import IngestGauge, Job, JobHandlers
from gridline.storage.pg_job_app import build_app, worker_options
from gridline.storage.pg_job_schema import job_schema_installed

if TYPE_CHECKING:
    from procrastinate import App


log = logging.getLogger(__name__)

# A job run here whose queued copy no statement of this process took along meanwhile is deleted by
# a statement of its own this long after (well inside ``kernel.work.RUN_HERE_GRACE_SECONDS``, before
# which no worker fetches it).
UNSTAGE_FLUSH_SECONDS = 1.0


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
        try:
            pg_job_rows.insert(session, jobs, [*unstage, *taken])
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
                pg_job_rows.delete_waiting(session, keys)

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
            return pg_job_rows.count_waiting(connection)

    # --- running ----------------------------------------------------------------------------

    async def run_due(self, handlers: JobHandlers) -> int:
        await self.flush_unstaged()  # a fake clock moved on may make their copies due: gone first
        if self._burst_app is None:
            self._burst_app = build_app(self._settings.jobs, self._db, handlers, counter=self._burst_ran)
            await self._burst_app.open_async()
        app = self._burst_app
        ran = 0
        for _ in range(1000):
            await handlers.reconcile()
            moved = await self._db.run(self._move_due, self._clock.now())
            if moved == 0:
                break
            before = self._burst_ran[0]
            await app.run_worker_async(**worker_options(self._settings.jobs, burst=True))
            ran += self._burst_ran[0] - before
        return ran

    def _move_due(self, now: datetime) -> int:
        with self._db.session() as session:
            return pg_job_rows.move_due(session, now)

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
        app = build_app(self._settings.jobs, self._db, handlers)
        async with app.open_async():
            worker = asyncio.create_task(app.run_worker_async(**worker_options(self._settings.jobs, burst=False)))
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
            pg_job_rows.delete_doing(session, job_id)

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
                return pg_job_rows.count_live_workers(connection, seconds)

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

