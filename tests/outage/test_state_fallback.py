"""Redis as an accelerator: with Redis killed, hints and rate limits fall back to the process, the
breaker stops calling the dead server, and when Redis is back the link uses it again."""

from __future__ import annotations

import pytest

from gridline.clock import FakeClock
from gridline.storage.redis_link import RedisLink, RedisUnavailable
from gridline.storage.state import FallbackStateStore, MemoryStateStore, RedisStateStore
from tests.conftest import START
from tests.outage.support import RedisServer, eventually

pytestmark = pytest.mark.redis


def store_on(url: str) -> tuple[FallbackStateStore, RedisLink]:
    link = RedisLink(url, timeout_seconds=0.5, breaker_min_seconds=0.1, breaker_max_seconds=0.5)
    clock = FakeClock(START)
    return FallbackStateStore(RedisStateStore(link, clock, prefix="t:"), MemoryStateStore(clock)), link


async def test_a_killed_redis_opens_the_breaker_and_the_process_answers_instead(redis_server: RedisServer):
    store, link = store_on(redis_server.url)
    try:
        await store.set("idem:a", {"id": 1}, 60)
        assert redis_server.client().get("t:idem:a") == '{"id": 1}', "while Redis answers, it holds the state"
        assert await store.hit("sender", 60) == 1

        redis_server.kill()
        await store.set("idem:b", {"id": 2}, 60)  # fails over: written in-process
        assert not link.available, "the first failure opens the breaker"
        assert await store.get("idem:b") == {"id": 2}
        assert await store.claim_once("maintenance:day", 60) is True
        assert await store.claim_once("maintenance:day", 60) is False, "the process still claims once"
        # The in-process count starts afresh: a limit is per process while Redis is away.
        assert [await store.hit("sender", 60) for _ in range(3)] == [1, 2, 3]
        with pytest.raises(RedisUnavailable):
            await link.call(lambda r: r.ping())  # refused at once while open, without touching the socket
        assert link.status()["breaker"] == "open"

        redis_server.start()
        await eventually(lambda: link.available, 15, "the probe to close the breaker")
        assert await store.hit("sender", 60) == 1, "back on Redis (which restarted empty)"
        await store.set("idem:c", {"id": 3}, 60)
        assert redis_server.client().get("t:idem:c") == '{"id": 3}'
        assert await store.get("idem:b") == {"id": 2}, "what was written during the outage is still readable"
        assert link.outages == 1
    finally:
        await link.close()


async def test_redis_unreachable_from_the_start_costs_one_failed_call(dead_redis_url: str):
    store, link = store_on(dead_redis_url)
    try:
        assert await store.get("idem:x") is None
        assert not link.available
        await store.set("idem:x", {"id": 9}, 60)
        assert await store.get("idem:x") == {"id": 9}
        assert await link.ping() is False
        assert "Error" in (link.status().get("error") or "")
    finally:
        await link.close()
