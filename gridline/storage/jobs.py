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
import collections
import contextlib
import heapq
import itertools
import logging
import time
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

    def ingesting(self, delta: int) -> None:
        """Webhooks being stored in this process (+1 when one starts, -1 when it is answered)."""
        ...


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
        # Webhooks of this process being stored now, and stored messages being processed now: a
        # message is processed in a moment when no webhook is being stored (all of them at once
        # then), so a flood of webhooks is stored and answered first — the one SQLite writer and
        # the one event loop go to ingest — and what it stored is processed as it slows down; under
        # a flood that never pauses, one at a time, each after waiting ``INGEST_FIRST_SECONDS``.
        self._ingesting = 0
        self._processing = 0
        # Stored messages due, oldest first, with when they came due: one dispatcher starts them.
        self._inbound: collections.deque[tuple[float, _Entry]] = collections.deque()
        self._kick: asyncio.Event | None = None

    def ingesting(self, delta: int) -> None:
        self._ingesting += delta
        if self._ingesting <= 0 and self._kick is not None:
            self._kick.set()

    def _may_process(self, came_due: float) -> bool:
        """No webhook is being stored; or, under a flood that does not pause, no other message is
        being processed and this one has waited ``INGEST_FIRST_SECONDS``."""
        if self._ingesting <= 0:
            return True
        return self._processing == 0 and time.monotonic() - came_due >= INGEST_FIRST_SECONDS

    async def _dispatch_inbound(self, handlers: JobHandlers, limit: asyncio.Semaphore) -> None:
        assert self._kick is not None
        while True:
            if not self._inbound or not self._may_process(self._inbound[0][0]):
                self._kick.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._kick.wait(), timeout=0.05 if self._inbound else None)
                continue
            _, entry = self._inbound.popleft()
            await limit.acquire()
            self._processing += 1
            task = asyncio.create_task(self._process(handlers, entry, limit))
            self._running.add(task)
            task.add_done_callback(self._running.discard)

    async def _process(self, handlers: JobHandlers, entry: _Entry, limit: asyncio.Semaphore) -> None:
        try:
            await handlers.run(entry.name, entry.kwargs)
        finally:
            self._processing -= 1
            limit.release()
            if self._kick is not None:
                self._kick.set()

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
        return len(self._by_key) + len(self._inbound)

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

        self._kick = asyncio.Event()
        dispatcher = asyncio.create_task(self._dispatch_inbound(handlers, limit), name="gridline-inbound")
        self._running.add(dispatcher)

        async def run(entry: _Entry) -> None:
            async with limit:
                await handlers.run(entry.name, entry.kwargs)

        while True:
            try:
                if loop.time() >= next_reconcile:
                    await handlers.reconcile()
                    next_reconcile = loop.time() + self._settings.jobs.reconcile_seconds
                for entry in self._pop_due():
                    if entry.name == PROCESS_INBOUND:  # started by the dispatcher (ingest first)
                        self._inbound.append((time.monotonic(), entry))
                        self._kick.set()
                        continue
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


PROCESS_INBOUND = "process_inbound"
# How long a stored message waits for a pause in a flood of webhooks before it is processed anyway.
INGEST_FIRST_SECONDS = 1.0


def build_job_queue(settings: Settings, clock: Clock, db: Database) -> JobQueue:
    """Jobs live where the truth lives: in PostgreSQL (procrastinate) or in this process (SQLite)."""
    if db.is_sqlite:
        return EmbeddedJobQueue(settings, clock)
    from gridline.storage.pg_jobs import PostgresJobQueue

    return PostgresJobQueue(settings, clock, db)
