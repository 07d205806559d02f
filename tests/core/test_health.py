"""/healthz reports each dependency; /metrics exposes the database's view for Prometheus."""

from __future__ import annotations

import httpx

from gridline.app import create_app
from gridline.core.conversation import handle_inbound
from gridline.kernel.messages import InboundMessage


async def test_healthz_checks_database_and_nlu(scenario_services):
    app = create_app(scenario_services, run_jobs=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        response = await client.get("/healthz")
    body = response.json()
    assert response.status_code == 200, body
    assert body["checks"]["database"]["ok"] and body["checks"]["nlu"]["ok"]
    assert ("redis" in body["checks"]) == bool(scenario_services.settings.redis.url)
    if not scenario_services.db.is_sqlite:  # jobs run in gridline worker processes: none runs here
        assert body["jobs"] == {"workers_alive": 0}


async def test_healthz_degrades_when_the_database_is_gone(services):
    from gridline.storage.db import Database

    working = services.db
    services.db = Database("postgresql+psycopg://nobody@127.0.0.1:9/none")  # nothing listens on port 9
    try:
        app = create_app(services, run_jobs=False)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            response = await client.get("/healthz")
    finally:
        services.db.dispose()
        services.db = working
    assert response.status_code == 503
    assert response.json()["checks"]["database"]["ok"] is False


async def test_metrics_count_cases_by_status(services, drain):
    await handle_inbound(
        services, InboundMessage(channel="sms", external_id="+8617000010001", text="楼道里有人充电瓶车，太危险了")
    )
    await drain(services)
    app = create_app(services, run_jobs=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        text = (await client.get("/metrics")).text
    assert "gridline_cases{" in text
    assert "gridline_escalation_steps_pending 1.0" in text
