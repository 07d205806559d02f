"""The job queue that runs Gridline's time-driven work (see ``gridline.core.engine``).

Every job is a pointer to a database row that is the truth (an inbound event, an escalation step,
a page, an outbound message), and every job function claims its row with a conditional UPDATE, so a
job that runs twice does its work once. That makes the queue itself disposable: with Redis it is
arq (deferred jobs, unique job ids) in ``gridline worker`` processes; without Redis an in-process
scheduler runs the same functions. Either way a reconciler re-queues whatever is due in the database
but missing from the queue — which is how a flushed Redis loses no page.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from gridline.clock import Clock
from gridline.settings import Settings

if TYPE_CHECKING:
    from gridline.core.services import Services

log = logging.getLogger(__name__)


class JobQueue(Protocol):
    async def enqueue(self, name: str, key: str, run_at: datetime | None = None, **kwargs: Any) -> None:
        """Queue job ``name`` once per ``key``; it runs at ``run_at`` (now when None)."""
        ...

    async def run_due(self, services: Services) -> int:
        """Run every job due now until none is left; returns how many ran (tests, benchmarks)."""
        ...

    async def start_in_process(self, services: Services) -> None:
        """Start running jobs inside this process (embedded mode); a no-op with Redis."""
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

    def __init__(self, settings: Settings, clock: Clock) -> None:
        self._settings = settings
        self._clock = clock
        self._heap: list[_Entry] = []
        self._by_key: dict[str, _Entry] = {}
        self._seq = itertools.count()
        self._wakeup: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._running: set[asyncio.Task[Any]] = set()

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

    async def run_due(self, services: Services) -> int:
        from gridline.core.engine import reconcile, run_job

        ran = 0
        await reconcile(services)
        for _ in range(10_000):
            due = self._pop_due()
            if not due:
                await reconcile(services)
                due = self._pop_due()
                if not due:
                    break
            for entry in due:
                await run_job(services, entry.name, entry.kwargs)
                ran += 1
        return ran

    async def start_in_process(self, services: Services) -> None:
        if self._task is None:
            self._wakeup = asyncio.Event()
            self._task = asyncio.create_task(self._loop(services), name="gridline-jobs")

    async def _loop(self, services: Services) -> None:
        from gridline.core.engine import reconcile, run_job

        assert self._wakeup is not None
        limit = asyncio.Semaphore(8)
        loop = asyncio.get_running_loop()
        next_reconcile = 0.0

        async def run(entry: _Entry) -> None:
            async with limit:
                await run_job(services, entry.name, entry.kwargs)

        while True:
            try:
                if loop.time() >= next_reconcile:
                    await reconcile(services)
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


class ArqJobQueue:
    """Jobs in Redis through arq; ``gridline worker`` runs them (see ``gridline.commands.worker``)."""

    def __init__(self, settings: Settings, clock: Clock) -> None:
        self._settings = settings
        self._clock = clock
        self._pool: Any = None
        # arq's job ids share one key space per Redis: namespace them as well as the queue.
        self.namespace = settings.redis.namespace
        self.queue_name = f"{self.namespace}:jobs"

    async def pool(self) -> Any:
        if self._pool is None:
            from arq import create_pool
            from arq.connections import RedisSettings

            self._pool = await create_pool(
                RedisSettings.from_dsn(self._settings.redis.url), default_queue_name=self.queue_name
            )
        return self._pool

    async def enqueue(self, name: str, key: str, run_at: datetime | None = None, **kwargs: Any) -> None:
        pool = await self.pool()
        # Work that is already due runs now: arq turns a deferral into the past into a negative
        # expiry and Redis refuses it, which after a long outage would strand every overdue row.
        if run_at is not None and run_at <= self._clock.now():
            run_at = None
        # arq refuses a job id that is queued or running: that is the dedup we want.
        await pool.enqueue_job(name, _job_id=f"{self.namespace}:{key}", _defer_until=run_at, **kwargs)

    def worker(self, services: Services, *, burst: bool = False, max_jobs: int = 10) -> Any:
        from arq.worker import Worker

        from gridline.core.engine import arq_functions

        return Worker(
            functions=arq_functions(),
            queue_name=self.queue_name,
            redis_settings=None,
            redis_pool=self._pool,
            burst=burst,
            max_jobs=max_jobs,
            keep_result=0,
            # arq marks a started job "in progress" for job_timeout + 10 s and refuses to queue its id
            # again meanwhile; after a SIGKILL (Redis not flushed) that mark is what delays the dead
            # worker's jobs, so it lasts as long as the database lease, not arq's default 300 s.
            job_timeout=self._settings.jobs.lease_seconds,
            poll_delay=0.05 if burst else self._settings.jobs.queue_poll_seconds,
            handle_signals=False,
            ctx={"services": services},
        )

    async def run_due(self, services: Services) -> int:
        from gridline.core.engine import reconcile

        pool = await self.pool()
        ran = 0
        for _ in range(1000):
            await reconcile(services)
            # Only what arq considers ready now; a burst worker would otherwise wait on deferred jobs.
            # (+1 s: arq rounds its scores to the nearest millisecond, so a job queued just now may
            # carry a score a hair ahead of our clock; the burst worker waits for it.)
            ready = int(await pool.zcount(self.queue_name, 0, self._clock_ms() + 1000))
            if ready == 0:
                break
            worker = self.worker(services, burst=True)
            worker.max_burst_jobs = ready
            await worker.main()
            ran += worker.jobs_complete + worker.jobs_failed
        return ran

    @staticmethod
    def _clock_ms() -> int:
        import time

        return int(time.time() * 1000)

    async def start_in_process(self, services: Services) -> None:
        return None

    async def ping(self) -> bool:
        try:
            pool = await self.pool()
            return bool(await pool.ping())
        except Exception:
            return False

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.aclose()
            self._pool = None


def build_job_queue(settings: Settings, clock: Clock) -> JobQueue:
    if settings.redis.url:
        return ArqJobQueue(settings, clock)
    return EmbeddedJobQueue(settings, clock)
