"""/healthz: Redis down is "degraded" (200: keep the process in the load balancer, it still answers
everyone); the database down is "failing" (503) and named."""

from __future__ import annotations

import httpx
import pytest

from gridline.app import create_app
from tests.outage.support import RedisServer, eventually
from tests.outage.test_conversation_state import use_redis_at


async def healthz(services) -> httpx.Response:  # type: ignore[no-untyped-def]
    app = create_app(services, run_jobs=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        return await client.get("/healthz")


@pytest.mark.redis
async def test_redis_killed_and_back_is_degraded_then_ok(make_services, redis_server: RedisServer):
    services = await make_services("sqlite")
    await use_redis_at(services, redis_server.url)
    first = await healthz(services)
    assert first.status_code == 200 and first.json()["status"] == "ok", first.json()
    assert first.json()["checks"]["redis"]["breaker"] == "closed"

    redis_server.kill()
    down = await healthz(services)
    body = down.json()
    assert down.status_code == 200, "degraded keeps the process in the load balancer"
    assert body["status"] == "degraded" and body["degraded"] == ["redis"], body
    assert body["checks"]["redis"]["ok"] is False and body["checks"]["redis"]["breaker"] == "open"
    assert body["checks"]["database"]["ok"] is True and "failing" not in body

    redis_server.start()
    assert services.redis is not None
    await eventually(lambda: services.redis.available, 15, "the breaker to close")  # type: ignore[union-attr]
    back = await healthz(services)
    assert back.status_code == 200 and back.json()["status"] == "ok", back.json()


async def test_redis_unreachable_from_the_start_is_degraded(make_services, dead_redis_url):
    services = await make_services("sqlite")
    await use_redis_at(services, dead_redis_url)
    response = await healthz(services)
    assert response.status_code == 200
    assert response.json()["status"] == "degraded" and response.json()["degraded"] == ["redis"]


async def test_the_database_down_is_failing_and_named(make_services, dead_redis_url):
    from gridline.storage.db import Database

    services = await make_services("sqlite")
    await use_redis_at(services, dead_redis_url)
    working = services.db
    services.db = Database("postgresql+psycopg://nobody@127.0.0.1:9/none")  # nothing listens on port 9
    try:
        response = await healthz(services)
    finally:
        services.db.dispose()
        services.db = working
    body = response.json()
    assert response.status_code == 503
    assert body["status"] == "failing" and body["failing"] == ["database"], body
    assert body["degraded"] == ["redis"], "Redis is named as well"
