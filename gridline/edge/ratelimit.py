"""Request rates per IP and per account, through the ``limits`` library.

Counted in Redis when ``[redis] url`` is set, so every web process shares one count; in memory
otherwise. Redis is never a single point of failure: when it cannot be reached the limiter counts in
memory (per process, so a little more lenient) and tries Redis again ``REDIS_RETRY_SECONDS`` later.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from fastapi import HTTPException, Request
from limits import RateLimitItem, parse_many
from limits.aio.storage import MemoryStorage, RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter

if TYPE_CHECKING:
    from gridline.kernel.services import Services
    from gridline.settings import Settings

log = logging.getLogger(__name__)
REDIS_RETRY_SECONDS = 30.0
# A rate-limit check must not hold a request up for long: a Redis slower than this counts as down.
REDIS_TIMEOUT_SECONDS = 0.5


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int = 0  # seconds until the fullest window frees a slot


class RateLimits:
    """The configured limits of ``[limits]`` by name (``login_per_ip``, ``open311_post_per_key``, …)."""

    def __init__(self, settings: Settings) -> None:
        self._items: dict[str, list[RateLimitItem]] = {}
        for name, value in settings.limits.model_dump().items():
            if name.endswith(("_per_ip", "_per_account", "_per_key")) and value:
                self._items[name] = list(parse_many(str(value)))
        self._memory = MovingWindowRateLimiter(MemoryStorage())
        self._redis: MovingWindowRateLimiter | None = None
        self._redis_down_until = 0.0
        if settings.redis.url:
            storage = RedisStorage(
                "async+" + settings.redis.url,
                implementation="redispy",
                key_prefix=f"{settings.redis.namespace}:limits",
                wrap_exceptions=True,
                socket_timeout=REDIS_TIMEOUT_SECONDS,
                socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
            )
            self._redis = MovingWindowRateLimiter(storage)

    async def hit(self, name: str, key: str) -> Verdict:
        """Count one request of ``key`` against limit ``name``; refused if any of its windows is full."""
        for item in self._items.get(name, []):
            if not await self._hit(item, name, key):
                stats = await self._stats(item, name, key)
                return Verdict(False, max(1, int(stats - time.time()) + 1))
        return Verdict(True)

    async def _hit(self, item: RateLimitItem, name: str, key: str) -> bool:
        limiter = self._limiter()
        try:
            return await limiter.hit(item, name, key)
        except Exception as exc:  # Redis down or slow: never the reason a request fails
            if limiter is self._memory:
                raise
            self._redis_down(exc)
            return await self._memory.hit(item, name, key)

    async def _stats(self, item: RateLimitItem, name: str, key: str) -> float:
        limiter = self._limiter()
        try:
            return (await limiter.get_window_stats(item, name, key)).reset_time
        except Exception as exc:
            if limiter is self._memory:
                raise
            self._redis_down(exc)
            return (await self._memory.get_window_stats(item, name, key)).reset_time

    def _limiter(self) -> MovingWindowRateLimiter:
        if self._redis is not None and time.monotonic() >= self._redis_down_until:
            return self._redis
        return self._memory

    def _redis_down(self, exc: Exception) -> None:
        log.warning("rate limits: Redis unreachable (%s); counting in memory for %.0f s",
                    type(exc).__name__, REDIS_RETRY_SECONDS)
        self._redis_down_until = time.monotonic() + REDIS_RETRY_SECONDS


def rate_limits(services: Services) -> RateLimits:
    """The process's limiter (made on first use)."""
    return services.parts.get_or_make(RateLimits, lambda: RateLimits(services.settings))


def client_ip(request: Request) -> str:
    """The caller's address as uvicorn saw it (``--proxy-headers`` makes that the proxy's X-Forwarded-For)."""
    return request.client.host if request.client else "unknown"


async def enforce(services: Services, name: str, key: str) -> None:
    """HTTP 429 with ``Retry-After`` when ``key`` is over limit ``name``."""
    verdict = await rate_limits(services).hit(name, key)
    if not verdict.allowed:
        raise HTTPException(status_code=429, detail="too many requests; try again later",
                            headers={"Retry-After": str(verdict.retry_after)})


async def limit_sandbox(request: Request) -> None:
    """Dependency of the sandbox's API: per-IP request rate."""
    await enforce(request.app.state.services, "sandbox_per_ip", client_ip(request))
