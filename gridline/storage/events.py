"""Publish/subscribe for live console updates, within a process and across processes.

Subscribers always listen to an in-process fan-out, so an event reaches the consoles of the process
that published it at once, whatever else is up. Other processes (the worker that paged someone, the
other web processes) hear it through Redis pub/sub while Redis answers, and through PostgreSQL
``NOTIFY`` when Redis is absent or down — so production on PostgreSQL alone has live consoles too,
and a Redis outage costs none. Each process listens on both and drops its own echoes. On SQLite
there is one process, and the in-process fan-out is all there is.

Live events are a convenience on top of pages that reload: one lost in a double outage (Redis and
the database) costs a console a refresh, never a page.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import uuid
from collections.abc import AsyncIterator
from typing import Any, Protocol

from gridline.settings import Settings
from gridline.storage.redis_link import RedisLink, RedisUnavailable

log = logging.getLogger(__name__)

# PostgreSQL refuses NOTIFY payloads of 8000 bytes or more.
MAX_NOTIFY_BYTES = 7900


class EventBus(Protocol):
    async def publish(self, topic: str, event: dict[str, Any]) -> None: ...

    async def publish_all(self, events: list[tuple[str, dict[str, Any]]]) -> None:
        """Publish a committed transaction's events in order: one message between processes."""
        ...

    def subscribe(self, topic: str) -> AsyncIterator[dict[str, Any]]: ...

    async def close(self) -> None: ...


class MemoryEventBus:
    """In-process fan-out: every subscriber of a topic gets its own bounded queue."""

    def __init__(self) -> None:
        self._subscribers: dict[str, set[asyncio.Queue[dict[str, Any]]]] = {}

    async def publish(self, topic: str, event: dict[str, Any]) -> None:
        self.deliver(topic, event)

    async def publish_all(self, events: list[tuple[str, dict[str, Any]]]) -> None:
        for topic, event in events:
            self.deliver(topic, event)

    def deliver(self, topic: str, event: dict[str, Any]) -> None:
        for queue in list(self._subscribers.get(topic, ())):
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait(event)

    async def subscribe(self, topic: str) -> AsyncIterator[dict[str, Any]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=1000)
        self._subscribers.setdefault(topic, set()).add(queue)
        try:
            while True:
                yield await queue.get()
        finally:
            self._subscribers[topic].discard(queue)

    async def close(self) -> None:
        self._subscribers.clear()


class SharedEventBus:
    """Events shared between processes through Redis and/or PostgreSQL (see the module docstring)."""

    def __init__(
        self,
        *,
        redis: RedisLink | None,
        redis_channel: str,
        postgres_url: str | None,
        postgres_channel: str,
    ) -> None:
        self.local = MemoryEventBus()
        self.origin = uuid.uuid4().hex
        self._redis = redis
        self._redis_channel = redis_channel
        self._pg_url = postgres_url
        self._pg_channel = postgres_channel
        self._pg_publisher: Any = None
        self._pg_lock: asyncio.Lock | None = None
        self._pumps: list[asyncio.Task[None]] = []
        self._closed = False
        # Set once the corresponding pump listens (tests and start-up wait on them).
        self.redis_listening = asyncio.Event()
        self.postgres_listening = asyncio.Event()

    async def publish(self, topic: str, event: dict[str, Any]) -> None:
        self.local.deliver(topic, event)
        await self._share(json.dumps({"o": self.origin, "t": topic, "e": event}, ensure_ascii=False, default=str))

    async def publish_all(self, events: list[tuple[str, dict[str, Any]]]) -> None:
        """A transaction's events, in order: one Redis PUBLISH or one NOTIFY for all of them (an
        envelope with ``b``, the batch), where one per event cost a round trip each; a batch too
        large for NOTIFY goes in halves."""
        if len(events) == 1:
            await self.publish(*events[0])
            return
        for topic, event in events:
            self.local.deliver(topic, event)
        await self._share_batch(events)

    async def _share_batch(self, events: list[tuple[str, dict[str, Any]]]) -> None:
        if not events:
            return
        envelope = json.dumps({"o": self.origin, "b": [[t, e] for t, e in events]}, ensure_ascii=False, default=str)
        if len(events) > 1 and len(envelope.encode()) > MAX_NOTIFY_BYTES:
            half = len(events) // 2
            await self._share_batch(events[:half])
            await self._share_batch(events[half:])
            return
        await self._share(envelope)

    async def _share(self, envelope: str) -> None:
        """Tell the other processes: Redis while someone listens there, else PostgreSQL."""
        if self._redis is not None and self._redis.available:
            try:
                receivers = await self._redis.call(lambda r: r.publish(self._redis_channel, envelope))
            except RedisUnavailable:
                receivers = 0
            # Nobody listening on Redis (everyone still resubscribing after an outage, or no Redis
            # listener at all): PostgreSQL carries it, and nobody can hear it twice.
            if receivers or self._pg_url is None:
                return
        if self._pg_url is not None:
            await self._notify(envelope)

    async def subscribe(self, topic: str) -> AsyncIterator[dict[str, Any]]:
        self.start()
        async for event in self.local.subscribe(topic):
            yield event

    def start(self) -> None:
        """Start listening to other processes (once; needs a running event loop)."""
        if self._pumps or self._closed:
            return
        loop = asyncio.get_running_loop()
        if self._redis is not None:
            self._pumps.append(loop.create_task(self._redis_pump(self._redis)))
        if self._pg_url is not None:
            self._pumps.append(loop.create_task(self._postgres_pump(self._pg_url)))

    def _heard(self, raw: str | bytes) -> None:
        try:
            envelope = json.loads(raw)
            if envelope.get("o") == self.origin:
                return  # our own event, delivered locally when it was published
            if "b" in envelope:  # a transaction's events (``publish_all``)
                for topic, event in envelope["b"]:
                    self.local.deliver(str(topic), dict(event))
                return
            self.local.deliver(str(envelope["t"]), dict(envelope["e"]))
        except (ValueError, KeyError, TypeError, AttributeError):
            log.warning("ignoring a malformed live event: %r", raw[:200])

    async def _redis_pump(self, link: RedisLink) -> None:
        while not self._closed:
            if not link.available:
                await asyncio.sleep(0.2)  # the link's probe closes the breaker when Redis is back
                continue
            pubsub = link.client.pubsub()
            try:
                await asyncio.wait_for(pubsub.subscribe(self._redis_channel), link.timeout)
                self.redis_listening.set()
                while not self._closed:
                    # get_message with its own timeout: a quiet channel is not a dead Redis.
                    message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                    if message is not None and message.get("type") == "message":
                        self._heard(message["data"])
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.redis_listening.clear()
                link.trip(exc)
            finally:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(pubsub.aclose(), link.timeout)

    async def _postgres_pump(self, url: str) -> None:
        import psycopg

        pause = 0.5
        while not self._closed:
            try:
                conn = await psycopg.AsyncConnection.connect(url, autocommit=True, connect_timeout=5)
                async with conn:
                    await conn.execute(f'LISTEN "{self._pg_channel}"')
                    self.postgres_listening.set()
                    pause = 0.5
                    async for notify in conn.notifies():
                        self._heard(notify.payload)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.postgres_listening.clear()
                log.warning("live events: PostgreSQL listener lost (%s); again in %.1f s", exc, pause)
            await asyncio.sleep(pause)
            pause = min(pause * 2, 10.0)

    async def _notify(self, envelope: str) -> None:
        if len(envelope.encode()) > MAX_NOTIFY_BYTES:
            log.warning("live event too large for NOTIFY (%d bytes), not shared", len(envelope.encode()))
            return
        import psycopg

        if self._pg_lock is None:
            self._pg_lock = asyncio.Lock()
        async with self._pg_lock:
            try:
                if self._pg_publisher is None or self._pg_publisher.closed:
                    self._pg_publisher = await psycopg.AsyncConnection.connect(
                        self._pg_url or "", autocommit=True, connect_timeout=5
                    )
                await asyncio.wait_for(
                    self._pg_publisher.execute("SELECT pg_notify(%s, %s)", (self._pg_channel, envelope)), 5.0
                )
            except Exception as exc:
                log.warning("live event not shared through PostgreSQL: %s", exc)
                publisher, self._pg_publisher = self._pg_publisher, None
                if publisher is not None:
                    with contextlib.suppress(Exception):
                        await publisher.close()

    async def close(self) -> None:
        self._closed = True
        for task in self._pumps:
            task.cancel()
        for task in self._pumps:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._pumps.clear()
        if self._pg_publisher is not None:
            with contextlib.suppress(Exception):
                await self._pg_publisher.close()
            self._pg_publisher = None
        await self.local.close()


def _postgres_dsn(database_url: str) -> str | None:
    """The libpq address of a PostgreSQL database URL, None for SQLite."""
    from sqlalchemy.engine import make_url

    from gridline.storage.db import normalise_url

    url = make_url(normalise_url(database_url))
    if url.get_backend_name() != "postgresql":
        return None
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def build_event_bus(settings: Settings, link: RedisLink | None = None) -> EventBus:
    """In-process on SQLite without Redis; otherwise shared through Redis and/or PostgreSQL."""
    postgres = _postgres_dsn(settings.database.url)
    if link is None and postgres is None:
        return MemoryEventBus()
    namespace = settings.redis.namespace
    return SharedEventBus(
        redis=link,
        redis_channel=f"{namespace}:events",
        postgres_url=postgres,
        # A channel name is an identifier: letters, digits and _, at most 63 bytes.
        postgres_channel=re.sub(r"\W", "_", f"{namespace}_events", flags=re.ASCII)[:63],
    )
