"""The composition root: the one place that builds a process's :class:`Services`.

``build_services`` wires the kernel's parts from settings (the database, the job queue, Redis if
configured, the NLU) and hands the queue the engine's job functions; ``install_channels`` registers
every channel's notifiers and inbound processors. ``gridline serve`` adds the HTTP routes on top
(``gridline.app``); ``gridline worker`` needs only these two.
"""

from __future__ import annotations

import importlib
import logging

from gridline.clock import Clock, SystemClock
from gridline.engine.jobs import Engine
from gridline.kernel.log_notifier import register_missing
from gridline.kernel.services import Services
from gridline.nlu.engines import build_engine
from gridline.nlu.types import NluEngine
from gridline.settings import Settings
from gridline.storage.db import Database
from gridline.storage.events import build_event_bus
from gridline.storage.jobs import build_job_queue
from gridline.storage.redis_link import RedisLink
from gridline.storage.state import build_state_store

log = logging.getLogger(__name__)

# Each exposes ``install_channel(services)`` (notifiers, inbound processors, hooks) and may expose
# ``install_routes(app, services)`` (its HTTP endpoints, see ``gridline.app``).
CHANNEL_PACKAGES = (
    "gridline.bots.web",
    "gridline.bots.telegram",
    "gridline.bots.twilio",
    "gridline.console",
)


def build_services(settings: Settings, clock: Clock | None = None, *, nlu: NluEngine | None = None) -> Services:
    """Wire services from settings: embedded when ``redis.url`` is empty, Redis-backed otherwise."""
    clock = clock or SystemClock()
    link = RedisLink.from_settings(settings.redis) if settings.redis.url else None
    db = Database(
        settings.database.url,
        echo=settings.database.echo,
        threads=settings.database.threads,
        lock_timeout_ms=settings.database.lock_timeout_ms,
    )
    services = Services(
        settings=settings,
        clock=clock,
        db=db,
        nlu=nlu or build_engine(settings),
        jobs=build_job_queue(settings, clock, db),
        state=build_state_store(settings, clock, link),
        events=build_event_bus(settings, link),
        redis=link,
    )
    services.engine = Engine(services)
    return services


def install_channels(services: Services) -> list[str]:
    """Register every channel's notifiers and inbound processors (once); returns the channels that
    have no provider configured (their pages fall through to the person's next channel)."""
    if services.channels_installed:
        return []
    services.channels_installed = True
    for name in CHANNEL_PACKAGES:
        install = getattr(importlib.import_module(name), "install_channel", None)
        if install is not None:
            install(services)
    unconfigured = register_missing(services.notifiers)
    if unconfigured:
        log.info("channels without a provider (pages fall through to the next channel): %s", unconfigured)
    return unconfigured
