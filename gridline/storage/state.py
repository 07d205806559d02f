"""Short-lived hints: idempotency keys, per-sender rate limits, cached voice answers, daily claims.

Redis when ``redis.url`` is set, an in-process dictionary otherwise. Nothing here is the truth (the
database is: a conversation's state lives on its row, an event's uniqueness in its unique key), so
Redis may fail at any moment: ``FallbackStateStore`` then answers from the in-process store until
Redis is back, and the cost is what the docs say (docs/operations.md, "When Redis is down") —
a rate limit counted per process, a retry reaching the database, never a lost message or page.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from typing import Any, Protocol

from gridline.clock import Clock
from gridline.settings import Settings
from gridline.storage.redis_link import RedisLink, RedisUnavailable


class StateStore(Protocol):
    async def get(self, key: str) -> dict[str, Any] | None: ...

    async def set(self, key: str, value: dict[str, Any], ttl_seconds: float) -> None: ...

    async def delete(self, key: str) -> None: ...

    async def claim_once(self, key: str, ttl_seconds: float) -> bool:
        """True the first time ``key`` is claimed within ``ttl_seconds`` (an idempotency key)."""
        ...

    async def hit(self, key: str, window_seconds: float) -> int:
        """Count one event for ``key`` and return how many fell within the window (rate limits)."""
        ...

    async def ping(self) -> bool: ...

    async def close(self) -> None: ...


class MemoryStateStore:
    """In-process equivalent of the Redis store; expiry follows the injected clock."""

    # Expired entries are swept every this many writes, so a long Redis outage cannot grow it forever.
    SWEEP_EVERY = 1000

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._values: dict[str, tuple[float, str]] = {}
        self._hits: dict[str, list[float]] = {}
        self._windows: dict[str, float] = {}
        self._lock = threading.Lock()
        self._writes = 0

    def _now(self) -> float:
        return self._clock.now().timestamp()

    def _wrote(self, now: float) -> None:
        """Count a write (lock held) and sweep what has expired now and then."""
        self._writes += 1
        if self._writes % self.SWEEP_EVERY:
            return
        self._values = {k: v for k, v in self._values.items() if v[0] > now}
        for key in list(self._hits):
            if not self._hits[key] or self._hits[key][-1] <= now - self._windows.get(key, 0.0):
                del self._hits[key]
                self._windows.pop(key, None)

    async def get(self, key: str) -> dict[str, Any] | None:
        with self._lock:
            item = self._values.get(key)
            if item is None:
                return None
            expires, raw = item
            if expires <= self._now():
                del self._values[key]
                return None
            return json.loads(raw)  # type: ignore[no-any-return]

    async def set(self, key: str, value: dict[str, Any], ttl_seconds: float) -> None:
        with self._lock:
            now = self._now()
            self._values[key] = (now + ttl_seconds, json.dumps(value, ensure_ascii=False))
            self._wrote(now)

    async def delete(self, key: str) -> None:
        with self._lock:
            self._values.pop(key, None)

    async def claim_once(self, key: str, ttl_seconds: float) -> bool:
        with self._lock:
            now = self._now()
            item = self._values.get(key)
            if item is not None and item[0] > now:
                return False
            self._values[key] = (now + ttl_seconds, "1")
            self._wrote(now)
            return True

    async def hit(self, key: str, window_seconds: float) -> int:
        with self._lock:
            now = self._now()
            hits = [t for t in self._hits.get(key, []) if t > now - window_seconds]
            hits.append(now)
            self._hits[key] = hits
            self._windows[key] = window_seconds
            self._wrote(now)
            return len(hits)

    async def ping(self) -> bool:
        return True

    async def close(self) -> None:
        return None


class RedisStateStore:
    """The state in Redis, every call through the link's timeout and breaker.

    Raises :class:`RedisUnavailable` when Redis cannot answer now; ``FallbackStateStore`` wraps it.
    """

    def __init__(self, link: RedisLink, clock: Clock, prefix: str = "gridline:") -> None:
        self.link = link
        self._clock = clock
        self._prefix = prefix

    def _k(self, key: str) -> str:
        return self._prefix + key

    async def get(self, key: str) -> dict[str, Any] | None:
        raw = await self.link.call(lambda r: r.get(self._k(key)))
        return json.loads(raw) if raw else None

    async def set(self, key: str, value: dict[str, Any], ttl_seconds: float) -> None:
        raw = json.dumps(value, ensure_ascii=False)
        await self.link.call(lambda r: r.set(self._k(key), raw, px=max(1, int(ttl_seconds * 1000))))

    async def delete(self, key: str) -> None:
        await self.link.call(lambda r: r.delete(self._k(key)))

    async def claim_once(self, key: str, ttl_seconds: float) -> bool:
        px = max(1, int(ttl_seconds * 1000))
        return bool(await self.link.call(lambda r: r.set(self._k(key), "1", nx=True, px=px)))

    async def hit(self, key: str, window_seconds: float) -> int:
        # A sorted set of hit times; the clock is injected so tests can move it.
        now = self._clock.now().timestamp()
        k = self._k("rate:" + key)
        member = f"{now:.6f}:{time.perf_counter_ns()}"

        async def count(r: Any) -> int:
            pipe = r.pipeline()
            pipe.zremrangebyscore(k, 0, now - window_seconds)
            pipe.zadd(k, {member: now})
            pipe.zcard(k)
            pipe.expire(k, int(window_seconds) + 1)
            results = await pipe.execute()
            return int(results[2])

        return await self.link.call(count)

    async def ping(self) -> bool:
        return await self.link.ping()

    async def close(self) -> None:
        return None  # the link belongs to the services and is closed with them


class FallbackStateStore:
    """Redis while it answers, the in-process store while it does not (see the module docstring).

    What was written in-process during an outage stays readable after Redis is back (``get`` looks
    there when Redis has nothing), so a cached answer or a hint written meanwhile is not forgotten.
    """

    def __init__(self, redis: RedisStateStore, memory: MemoryStateStore) -> None:
        self.redis = redis
        self.memory = memory

    @property
    def link(self) -> RedisLink:
        return self.redis.link

    async def get(self, key: str) -> dict[str, Any] | None:
        try:
            value = await self.redis.get(key)
        except RedisUnavailable:
            value = None
        return value if value is not None else await self.memory.get(key)

    async def set(self, key: str, value: dict[str, Any], ttl_seconds: float) -> None:
        try:
            await self.redis.set(key, value, ttl_seconds)
        except RedisUnavailable:
            await self.memory.set(key, value, ttl_seconds)

    async def delete(self, key: str) -> None:
        await self.memory.delete(key)
        with contextlib.suppress(RedisUnavailable):
            await self.redis.delete(key)

    async def claim_once(self, key: str, ttl_seconds: float) -> bool:
        try:
            return await self.redis.claim_once(key, ttl_seconds)
        except RedisUnavailable:
            return await self.memory.claim_once(key, ttl_seconds)

    async def hit(self, key: str, window_seconds: float) -> int:
        try:
            return await self.redis.hit(key, window_seconds)
        except RedisUnavailable:
            return await self.memory.hit(key, window_seconds)

    async def ping(self) -> bool:
        return await self.redis.ping()

    async def close(self) -> None:
        await self.redis.close()
        await self.memory.close()


def build_state_store(settings: Settings, clock: Clock, link: RedisLink | None) -> StateStore:
    """The in-process store, or (given the Redis link) Redis with the in-process store as fallback."""
    memory = MemoryStateStore(clock)
    if link is None:
        return memory
    return FallbackStateStore(RedisStateStore(link, clock, prefix=f"{settings.redis.namespace}:"), memory)
