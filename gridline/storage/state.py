"""Short-lived state: conversation state with expiry, idempotency keys, per-sender rate limits.

Redis when ``redis.url`` is set, an in-process dictionary otherwise. Nothing here is the truth:
losing it costs a resident at most one repeated question, never a stored message or a page.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any, Protocol

from gridline.clock import Clock
from gridline.settings import Settings


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

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._values: dict[str, tuple[float, str]] = {}
        self._hits: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def _now(self) -> float:
        return self._clock.now().timestamp()

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
            self._values[key] = (self._now() + ttl_seconds, json.dumps(value, ensure_ascii=False))

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
            return True

    async def hit(self, key: str, window_seconds: float) -> int:
        with self._lock:
            now = self._now()
            hits = [t for t in self._hits.get(key, []) if t > now - window_seconds]
            hits.append(now)
            self._hits[key] = hits
            return len(hits)

    async def ping(self) -> bool:
        return True

    async def close(self) -> None:
        return None


class RedisStateStore:
    def __init__(self, url: str, clock: Clock, prefix: str = "gridline:") -> None:
        import redis.asyncio as aioredis

        self._redis = aioredis.from_url(url, decode_responses=True)
        self._clock = clock
        self._prefix = prefix

    def _k(self, key: str) -> str:
        return self._prefix + key

    async def get(self, key: str) -> dict[str, Any] | None:
        raw = await self._redis.get(self._k(key))
        return json.loads(raw) if raw else None

    async def set(self, key: str, value: dict[str, Any], ttl_seconds: float) -> None:
        await self._redis.set(self._k(key), json.dumps(value, ensure_ascii=False), px=int(ttl_seconds * 1000))

    async def delete(self, key: str) -> None:
        await self._redis.delete(self._k(key))

    async def claim_once(self, key: str, ttl_seconds: float) -> bool:
        return bool(await self._redis.set(self._k(key), "1", nx=True, px=int(ttl_seconds * 1000)))

    async def hit(self, key: str, window_seconds: float) -> int:
        # A sorted set of hit times; the clock is injected so tests can move it.
        now = self._clock.now().timestamp()
        k = self._k("rate:" + key)
        member = f"{now:.6f}:{time.perf_counter_ns()}"
        pipe = self._redis.pipeline()
        pipe.zremrangebyscore(k, 0, now - window_seconds)
        pipe.zadd(k, {member: now})
        pipe.zcard(k)
        pipe.expire(k, int(window_seconds) + 1)
        results = await pipe.execute()
        return int(results[2])

    async def ping(self) -> bool:
        try:
            return bool(await self._redis.ping())
        except Exception:
            return False

    async def close(self) -> None:
        await self._redis.aclose()


def build_state_store(settings: Settings, clock: Clock) -> StateStore:
    if settings.redis.url:
        return RedisStateStore(settings.redis.url, clock, prefix=f"{settings.redis.namespace}:")
    return MemoryStateStore(clock)
