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


class IngestGauge:
    """How many webhooks are waiting for their store right now (the inbox writer counts them), so
    that work which can wait — processing what was stored — makes way for storing while a flood
    is on (``EmbeddedJobQueue``, where both share one process).

    A flood is on while webhooks arrive at :data:`FLOOD_RATE` a second or more (this second or the
    last) and :data:`FLOOD` or more of them were seen waiting at once within :data:`WINDOW` seconds.
    The window is there because a group commit answers its whole batch at once, so the count drops
    to nothing after every commit even in a flood; the rate, because at a moderate rate (20 reports
    a second) a slow moment can leave four waiting together too, and holding the processing back
    then only delays every report's page (measured: p50 2.3 s → 11.5 s at load 14)."""

    FLOOD = 4
    FLOOD_RATE = 50
    WINDOW = 0.5

    def __init__(self) -> None:
        self.waiting = 0
        self._flood_seen = -1e9
        self._second = 0
        self._this_second = 0
        self._last_second = 0

    @property
    def flooded(self) -> bool:
        now = time.monotonic()
        if int(now) == self._second:
            rate = max(self._this_second, self._last_second)
        elif int(now) == self._second + 1:
            rate = self._this_second  # the last arrival's second is the one just gone
        else:
            return False  # no arrival for a whole second
        return rate >= self.FLOOD_RATE and (self.waiting >= self.FLOOD or now - self._flood_seen < self.WINDOW)

    def arrive(self) -> None:
        now = time.monotonic()
        second = int(now)
        if second != self._second:
            self._last_second = self._this_second if second == self._second + 1 else 0
            self._second, self._this_second = second, 0
        self._this_second += 1
        self.waiting += 1
        if self.waiting >= self.FLOOD:
            self._flood_seen = now

    def settle(self) -> None:
        self.waiting -= 1

    async def calm(self, at_most: float) -> None:
        """Return once no flood is on, or after ``at_most`` seconds whatever happens."""
        deadline = time.monotonic() + at_most
        while self.flooded:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            await asyncio.sleep(min(left, self.WINDOW))


class JobQueue(Protocol):
    # True when jobs can be inserted inside a unit of work's own transaction (``stage``).
    transactional: bool
    # Webhooks being stored by this process (``IngestGauge``); the in-process scheduler yields to them.
    ingest: IngestGauge

    def stage(self, session: Session, jobs: list[Job], unstage: Collection[str] = ()) -> list[str]:
        """Insert ``jobs`` through ``session`` before it commits (only when ``transactional``), and
        delete the waiting jobs of ``unstage`` and of earlier :meth:`unstage_later` keys in the same
        statement; returns the latter (give them back to :meth:`unstage_later` on a rollback)."""
        ...

    async def enqueue(self, name: str, key: str, run_at: datetime | None = None, **kwargs: Any) -> None:
        """Queue job ``name`` once per ``key``; it runs at ``run_at`` (now when None)."""
        ...

    def unstage_later(self, keys: Collection[str]) -> None:
        """The jobs of ``keys`` ran in the task that queued them (``kernel.work.RUN_HERE``) and their
        first unit of work committed: delete their waiting copies soon, with a later statement
        (only when ``transactional``)."""
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


# Jobs that process what was stored (a resident's message): under a flood of webhooks the
# in-process scheduler starts them one at a time, each after a pause in the flood or
# ``jobs.ingest_hold_back_seconds`` at most, so storing — what keeps a message from being lost —
# goes first, and processing still moves on. Pages, escalation steps and replies never wait.
YIELDS_TO_INGEST = frozenset({"process_inbound"})


class EmbeddedJobQueue:
    """An in-process scheduler: a heap of due times plus a periodic reconcile from the database."""

    transactional = False

    def __init__(self, settings: Settings, clock: Clock) -> None:
        self._settings = settings
        self._clock = clock
        self.ingest = IngestGauge()
        self._heap: list[_Entry] = []
        self._by_key: dict[str, _Entry] = {}
        self._seq = itertools.count()
        self._wakeup: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._running: set[asyncio.Task[Any]] = set()

    def stage(self, session: Session, jobs: list[Job], unstage: Collection[str] = ()) -> list[str]:
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

    def unstage_later(self, keys: Collection[str]) -> None:
        # A job run here was never queued (``kernel.work.stage_jobs``); one the reconciler queued
        # meanwhile for the same row stays (the row's claim makes the second run a no-op).
        return None

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
        turnstile = asyncio.Lock()  # under a flood, one held-back job is let through at a time
        hold_back = self._settings.jobs.ingest_hold_back_seconds
        loop = asyncio.get_running_loop()
        next_reconcile = 0.0

        async def run(entry: _Entry) -> None:
            if entry.name in YIELDS_TO_INGEST:
                # One at a time through the turnstile: under a flood each waits for a pause first,
                # holding no slot meanwhile (jobs that never wait, a page, pass it), and takes its
                # slot before letting the next one through, so no job checked the flood long ago.
                async with turnstile:
                    await self.ingest.calm(hold_back)
                    await limit.acquire()
            else:
                await limit.acquire()
            if self._by_key.get(entry.key) is entry:  # it starts now: the key may be queued anew
                del self._by_key[entry.key]
            try:
                await handlers.run(entry.name, entry.kwargs)
            finally:
                limit.release()

        while True:
            try:
                if loop.time() >= next_reconcile:
                    await handlers.reconcile()
                    next_reconcile = loop.time() + self._settings.jobs.reconcile_seconds
                for entry in self._pop_due():
                    if entry.name in YIELDS_TO_INGEST:
                        # Held back, it keeps its key until it starts: the reconciler, which finds
                        # its row still waiting, then does not queue it a second (third …) time.
                        self._by_key.setdefault(entry.key, entry)
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
