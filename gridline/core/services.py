"""The services every part of Gridline is given (dependency injection, no globals).

``build_services`` wires the embedded defaults or PostgreSQL (with its job queue) and Redis from
settings; tests build one with a fake clock. Channel packages add their notifiers and inbound
processors at start-up through their ``install`` hook (see ``gridline.app``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from gridline.clock import Clock, SystemClock
from gridline.core.notify import NotifierRegistry
from gridline.settings import Settings
from gridline.storage.db import Database

if TYPE_CHECKING:
    from gridline.core.messages import InboundMessage
    from gridline.nlu.types import NluEngine
    from gridline.storage.events import EventBus
    from gridline.storage.jobs import JobQueue
    from gridline.storage.models import InboundEvent
    from gridline.storage.redis_link import RedisLink
    from gridline.storage.state import StateStore

InboundProcessor = Callable[["Services", "InboundEvent"], Awaitable[None]]
# The bare facts of a stored event (sender, channel, text) for the rescue, or None if it has none.
InboundReader = Callable[["InboundEvent"], "InboundMessage | None"]


@dataclass
class Services:
    settings: Settings
    clock: Clock
    db: Database
    nlu: NluEngine
    jobs: JobQueue
    state: StateStore
    events: EventBus
    notifiers: NotifierRegistry = field(default_factory=NotifierRegistry)
    # provider prefix ("telegram", "twilio", "web") → coroutine that processes a stored InboundEvent
    inbound_processors: dict[str, InboundProcessor] = field(default_factory=dict)
    # provider prefix → reader used when processing keeps failing (``gridline.core.rescue``)
    inbound_readers: dict[str, InboundReader] = field(default_factory=dict)
    # Anything a channel package wants to keep for the life of the process (bot runtimes, clients).
    extras: dict[str, Any] = field(default_factory=dict)
    # The process's one Redis connection (timeout + breaker) behind ``state`` and ``events``; None without Redis.
    redis: RedisLink | None = None
    # When this process's reconciler last ran the hour-scale sweeps (closure, deadlines; core.engine).
    swept_at: datetime | None = None

    async def aclose(self) -> None:
        await self.jobs.close()
        await self.state.close()
        await self.events.close()
        if self.redis is not None:
            await self.redis.close()
        closer = self.extras.get("close_hooks", [])
        for hook in closer:
            await hook()
        self.db.dispose()


def build_services(settings: Settings, clock: Clock | None = None, *, nlu: NluEngine | None = None) -> Services:
    """Wire services from settings: embedded when ``redis.url`` is empty, Redis-backed otherwise."""
    from gridline.nlu.engines import build_engine
    from gridline.storage.events import build_event_bus
    from gridline.storage.jobs import build_job_queue
    from gridline.storage.redis_link import RedisLink
    from gridline.storage.state import build_state_store

    clock = clock or SystemClock()
    link = RedisLink.from_settings(settings.redis) if settings.redis.url else None
    db = Database(
        settings.database.url,
        echo=settings.database.echo,
        threads=settings.database.threads,
        lock_timeout_ms=settings.database.lock_timeout_ms,
    )
    return Services(
        settings=settings,
        clock=clock,
        db=db,
        nlu=nlu or build_engine(settings),
        jobs=build_job_queue(settings, clock, db),
        state=build_state_store(settings, clock, link),
        events=build_event_bus(settings, link),
        redis=link,
    )
