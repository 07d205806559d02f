"""One process's link to Redis: every call bounded by a short timeout, and a circuit breaker.

Redis only accelerates Gridline, so a Redis that is down must cost a request nothing: the first
call that fails (refused, reset, or slower than ``redis.timeout_seconds``) opens the breaker, and
from then on callers are told at once that Redis is unavailable and use their fallback. While the
breaker is open a background probe pings Redis with a growing pause (up to
``redis.breaker_max_seconds``); the first answered ping closes it again. No request ever waits for
a probe.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from gridline.settings import RedisSettings

log = logging.getLogger(__name__)
T = TypeVar("T")


class RedisUnavailable(Exception):
    """Redis is down, unreachable or too slow right now: use the fallback."""


class RedisLink:
    """A Redis client behind a timeout and a breaker (see the module docstring). One per process."""

    def __init__(
        self,
        url: str,
        *,
        timeout_seconds: float = 0.5,
        breaker_min_seconds: float = 0.5,
        breaker_max_seconds: float = 5.0,
    ) -> None:
        import redis.asyncio as aioredis
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff

        self.url = url
        self.timeout = timeout_seconds
        self._min_pause = breaker_min_seconds
        self._max_pause = max(breaker_max_seconds, breaker_min_seconds)
        # No retries inside redis-py: the breaker decides what happens after a failure.
        self.client: Any = aioredis.from_url(
            url,
            decode_responses=True,
            socket_timeout=timeout_seconds,
            socket_connect_timeout=timeout_seconds,
            retry=Retry(NoBackoff(), 0),
        )
        self.opened_at: float | None = None
        self.last_error: str | None = None
        self.outages = 0
        self._probe: asyncio.Task[None] | None = None
        self._closed = False

    @classmethod
    def from_settings(cls, settings: RedisSettings) -> RedisLink:
        return cls(
            settings.url,
            timeout_seconds=settings.timeout_seconds,
            breaker_min_seconds=settings.breaker_min_seconds,
            breaker_max_seconds=settings.breaker_max_seconds,
        )

    @property
    def available(self) -> bool:
        """False while the breaker is open (Redis failed and has not answered a probe since)."""
        return self.opened_at is None and not self._closed

    async def call(self, op: Callable[[Any], Awaitable[T]]) -> T:
        """``await op(client)`` within the timeout, or raise :class:`RedisUnavailable` at once."""
        if not self.available:
            raise RedisUnavailable(self.last_error or "Redis is unavailable")
        try:
            return await asyncio.wait_for(op(self.client), self.timeout)
        except Exception as exc:  # redis errors, OSError, TimeoutError: all mean "not now"
            if not _is_outage(exc):
                raise
            self.trip(exc)
            raise RedisUnavailable(self.last_error) from exc

    def trip(self, exc: BaseException) -> None:
        """Open the breaker after a failed call (also used by long-lived subscriptions)."""
        self.last_error = f"{type(exc).__name__}: {exc}"[:200]
        if self.opened_at is not None or self._closed:
            return
        self.opened_at = time.monotonic()
        self.outages += 1
        log.warning("Redis unavailable (%s); using the fallbacks until it answers again", self.last_error)
        with contextlib.suppress(RuntimeError):  # no running loop: the next call will probe
            self._probe = asyncio.get_running_loop().create_task(self._probe_until_back())

    async def _probe_until_back(self) -> None:
        pause = self._min_pause
        while not self._closed:
            await asyncio.sleep(pause)
            try:
                await asyncio.wait_for(self.client.ping(), self.timeout)
            except Exception as exc:
                self.last_error = f"{type(exc).__name__}: {exc}"[:200]
                pause = min(pause * 2, self._max_pause)
                continue
            down_for = time.monotonic() - (self.opened_at or time.monotonic())
            self.opened_at = None
            self._probe = None
            log.warning("Redis answers again after %.1f s; using it again", down_for)
            return

    async def ping(self) -> bool:
        """A real ping when the breaker is closed; False at once while it is open."""
        try:
            return bool(await self.call(lambda client: client.ping()))
        except RedisUnavailable:
            return False

    def status(self) -> dict[str, Any]:
        """What ``/healthz`` shows about this link."""
        if self.available:
            return {"breaker": "closed"}
        down = time.monotonic() - self.opened_at if self.opened_at is not None else 0.0
        return {"breaker": "open", "down_seconds": round(down, 1), "error": self.last_error}

    async def close(self) -> None:
        self._closed = True
        if self._probe is not None:
            self._probe.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._probe
            self._probe = None
        with contextlib.suppress(Exception):
            await self.client.aclose()


def _is_outage(exc: BaseException) -> bool:
    from redis.exceptions import RedisError

    return isinstance(exc, (RedisError, OSError, TimeoutError, asyncio.TimeoutError))
