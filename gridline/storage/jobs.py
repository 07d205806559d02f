"""The job queue that runs Gridline's time-driven work (see ``gridline.engine``).

Every job is a pointer to a database row that is the truth (an inbound event, an escalation step,
a page, an outbound message), and every job function claims its row with a conditional UPDATE, so a
job that runs twice does its work once. On PostgreSQL the jobs live in PostgreSQL too
(``gridline.storage.pg_jobs``, procrastinate's tables): a unit of work inserts its jobs in its own
transaction, so a committed row always has its job, and ``gridline worker`` processes run them. On
SQLite (embedded) an in-process scheduler runs the same functions. Either way a reconciler re-queues
whatever is due in the database but has no job — a safety net, no longer the way jobs get queued.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from sqlmodel import Session

from gridline.clock import Clock
from gridline.settings import Settings

if TYPE_CHECKING:
    from gridline.storage.db import Database

log = logging.getLogger(__name__)


Job = tuple[str, str, "datetime | None", dict[str, Any]]  # (name, key, run_at, kwargs)


class JobHandlers(Protocol):
    """What a queue runs, handed to it by the composition root (``gridline.engine.Engine``): the
    job functions by name and the reconciler. The queue knows nothing of what a job does."""

    @property
    def names(self) -> Collection[str]: ...

    async def run(self, name: str, kwargs: dict[str, Any]) -> Any:
        """Run job ``name``; failures are logged, never raised (the reconciler retries what is due)."""
        ...

    async def reconcile(self, grace_seconds: float = 0.0) -> int:
        """Queue what the database says is due and has no job; returns how many were queued."""
        ...


class JobQueue(Protocol):
    # True when jobs can be inserted inside a unit of work's own transaction (``stage``).
    transactional: bool

    def stage(self, session: Session, jobs: list[Job]) -> None:
        """Insert ``jobs`` through ``session`` before it commits (only when ``transactional``)."""
        ...

    async def enqueue(self, name: str, key: str, run_at: datetime | None = None, **kwargs: Any) -> None:
        """Queue job ``name`` once per ``key``; it runs at ``run_at`` (now when None)."""
        ...

    async def run_due(self, handlers: JobHandlers) -> int:
        """Run every job due now until none is left; returns how many ran (tests, benchmarks)."""
        ...

    async def start_in_process(self, handlers: JobHandlers) -> None:
        """Start running jobs inside this process (``gridline serve`` in embedded mode)."""
        ...

    async def ping(self) -> bool: ...

    async def close(self) -> None: ...


@dataclass(order=True)
class _Entry:
    run_at: float
    seq: int
    key: str = field(compare=False)
    name: str = field(compare=False)
    kwargs: dict[str, Any] = field(compare=False)


class EmbeddedJobQueue:
    """An in-process scheduler: a heap of due times plus a periodic reconcile from the database."""

    transactional = False

    def __init__(self, settings: Settings, clock: Clock) -> None:
        self._settings = settings
        self._clock = clock
        self._heap: list[_Entry] = []
        self._by_key: dict[str, _Entry] = {}
        self._seq = itertools.count()
        self._wakeup: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._running: set[asyncio.Task[Any]] = set()

    def stage(self, session: Session, jobs: list[Job]) -> None:
        raise NotImplementedError("the in-process scheduler queues jobs after the commit")

    async def enqueue(self, name: str, key: str, run_at: datetime | None = None, **kwargs: Any) -> None:
        when = (run_at or self._clock.now()).timestamp()
        existing = self._by_key.get(key)
        if existing is not None and existing.run_at <= when:
            return
        entry = _Entry(when, next(self._seq), key, name, kwargs)
        self._by_key[key] = entry
        heapq.heappush(self._heap, entry)
        if self._wakeup is not None:
            self._wakeup.set()

    def _pop_due(self) -> list[_Entry]:
        now = self._clock.now().timestamp()
        due: list[_Entry] = []
        while self._heap and self._heap[0].run_at <= now:
            entry = heapq.heappop(self._heap)
            if self._by_key.get(entry.key) is entry:
                del self._by_key[entry.key]
                due.append(entry)
        return due

    def pending(self) -> int:
        return len(self._by_key)

    async def run_due(self, handlers: JobHandlers) -> int:
        ran = 0
        await handlers.reconcile()
        for _ in range(10_000):
            due = self._pop_due()
            if not due:
                await handlers.reconcile()
                due = self._pop_due()
                if not due:
                    break
            for entry in due:
                await handlers.run(entry.name, entry.kwargs)
                ran += 1
        return ran

    async def start_in_process(self, handlers: JobHandlers) -> None:
        if self._task is None:
            self._wakeup = asyncio.Event()
            self._task = asyncio.create_task(self._loop(handlers), name="gridline-jobs")

    async def _loop(self, handlers: JobHandlers) -> None:
        assert self._wakeup is not None
        limit = asyncio.Semaphore(8)
        loop = asyncio.get_running_loop()
        next_reconcile = 0.0

        async def run(entry: _Entry) -> None:
            async with limit:
                await handlers.run(entry.name, entry.kwargs)

        while True:
            try:
                if loop.time() >= next_reconcile:
                    await handlers.reconcile()
                    next_reconcile = loop.time() + self._settings.jobs.reconcile_seconds
                for entry in self._pop_due():
                    task = asyncio.create_task(run(entry))
                    self._running.add(task)
                    task.add_done_callback(self._running.discard)
                delay = self._settings.jobs.poll_seconds
                if self._heap:
                    delay = min(delay, max(0.0, self._heap[0].run_at - self._clock.now().timestamp()))
                self._wakeup.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wakeup.wait(), timeout=delay)
            except asyncio.CancelledError:
                raise
            except Exception:  # the scheduler must outlive any one bad job or database hiccup
                log.exception("job loop iteration failed")
                await asyncio.sleep(self._settings.jobs.poll_seconds)

    async def ping(self) -> bool:
        return self._task is None or not self._task.done()

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None
        for task in list(self._running):
            task.cancel()
        if self._running:
            await asyncio.gather(*self._running, return_exceptions=True)


def build_job_queue(settings: Settings, clock: Clock, db: Database) -> JobQueue:
    """Jobs live where the truth lives: in PostgreSQL (procrastinate) or in this process (SQLite)."""
    if db.is_sqlite:
        return EmbeddedJobQueue(settings, clock)
    from gridline.storage.pg_jobs import PostgresJobQueue

    return PostgresJobQueue(settings, clock, db)
