"""The services every part of Gridline is given (dependency injection, no globals).

``gridline.composition`` builds them (the one composition root): the embedded defaults or
PostgreSQL (with its job queue) and Redis from settings, the engine's job handlers, and every
channel's notifiers; tests build them with a fake clock.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, TypeVar

from gridline.clock import Clock
from gridline.kernel.notify import NotifierRegistry
from gridline.settings import Settings
from gridline.storage.db import Database

if TYPE_CHECKING:
    from gridline.kernel.messages import InboundMessage
    from gridline.nlu.types import NluEngine
    from gridline.storage.events import EventBus
    from gridline.storage.jobs import JobHandlers, JobQueue
    from gridline.storage.models import InboundEvent
    from gridline.storage.redis_link import RedisLink
    from gridline.storage.state import StateStore

InboundProcessor = Callable[["Services", "InboundEvent"], Awaitable[None]]
# The bare facts of a stored event (sender, channel, text) for the rescue, or None if it has none.
InboundReader = Callable[["InboundEvent"], "InboundMessage | None"]
Hook = Callable[[], Awaitable[None]]
T = TypeVar("T")


class Parts:
    """The long-lived objects of one process that belong to a layer above the kernel (a channel's
    bot runtimes, the Twilio gateway, the grid directory's cache, the rate limiter), keyed by their
    class — so a reader gets the type back, not ``Any`` from a string-keyed bag."""

    def __init__(self) -> None:
        self._by_type: dict[type, object] = {}

    def get(self, kind: type[T]) -> T | None:
        found = self._by_type.get(kind)
        return found if isinstance(found, kind) else None

    def put(self, part: T) -> T:
        self._by_type[type(part)] = part
        return part

    def get_or_make(self, kind: type[T], make: Callable[[], T]) -> T:
        found = self.get(kind)
        return found if found is not None else self.put(make())


@dataclass
class Services:
    settings: Settings
    clock: Clock
    db: Database
    nlu: NluEngine
    jobs: JobQueue
    state: StateStore
    events: EventBus
    # What the job queue runs: the engine's job functions and reconciler (set by the composition root).
    engine: JobHandlers | None = None
    notifiers: NotifierRegistry = field(default_factory=NotifierRegistry)
    # provider prefix ("telegram", "twilio", "web") → coroutine that processes a stored InboundEvent
    inbound_processors: dict[str, InboundProcessor] = field(default_factory=dict)
    # provider prefix → reader used when processing keeps failing (``gridline.core.rescue``)
    inbound_readers: dict[str, InboundReader] = field(default_factory=dict)
    parts: Parts = field(default_factory=Parts)
    # Run when the process starts serving or working (e.g. Telegram's getMe/setWebhook), and at close.
    startup_hooks: list[Hook] = field(default_factory=list)
    close_hooks: list[Hook] = field(default_factory=list)
    # True once every channel has registered its notifiers (``gridline.composition.install_channels``).
    channels_installed: bool = False
    # The process's one Redis connection (timeout + breaker) behind ``state`` and ``events``; None without Redis.
    redis: RedisLink | None = None
    # When this process last ran each of the engine's time-driven modules (gridline.engine.modules).
    module_runs: dict[str, datetime] = field(default_factory=dict)

    @property
    def handlers(self) -> JobHandlers:
        """The engine's handlers, for the job queue (``services.jobs.run_due(services.handlers)``)."""
        if self.engine is None:
            raise RuntimeError("services were built without an engine (use gridline.composition.build_services)")
        return self.engine

    async def aclose(self) -> None:
        await self.jobs.close()
        await self.state.close()
        await self.events.close()
        if self.redis is not None:
            await self.redis.close()
        for hook in self.close_hooks:
            await hook()
        self.db.dispose()

