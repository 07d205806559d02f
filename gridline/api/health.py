"""Health and metrics: ``/healthz`` checks the database, Redis and NLU; ``/metrics`` for Prometheus."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily

from gridline.core.services import Services
from gridline.core.work import Work, in_transaction
from gridline.routing.claims import POSSIBLY_TWICE
from gridline.storage import gauges

router = APIRouter()


def _services(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


async def _check(name: str, coro: Any, timeout: float = 3.0) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        ok = bool(await asyncio.wait_for(coro, timeout))
        error = None
    except Exception as exc:
        ok, error = False, f"{type(exc).__name__}: {exc}"[:200]
    result: dict[str, Any] = {"ok": ok, "ms": round((time.perf_counter() - started) * 1000, 1)}
    if error:
        result["error"] = error
    return result


@router.get("/healthz")
async def healthz(request: Request) -> JSONResponse:
    services = _services(request)

    async def database() -> bool:
        await in_transaction(services, lambda work: gauges.ping(work.session))
        return True

    async def nlu() -> bool:
        result = await services.nlu.parse("你好")
        return bool(result.intent)

    checks = {"database": await _check("database", database()), "nlu": await _check("nlu", nlu())}
    if services.settings.redis.url:
        checks["redis"] = await _check("redis", services.state.ping())
    healthy = all(c["ok"] for c in checks.values())
    body = {
        "status": "ok" if healthy else "degraded",
        "checks": checks,
        "mode": "redis" if services.settings.redis.url else "embedded",
    }
    return JSONResponse(body, status_code=200 if healthy else 503)


def _read_counts(work: Work) -> gauges.Counts:
    return gauges.read_counts(work.session, work.now, POSSIBLY_TWICE)


class _DatabaseCollector:
    """Gauges from counts read beforehand (``_read_counts``), so collecting never touches the database."""

    def __init__(self, counts: gauges.Counts) -> None:
        self.counts = counts

    def collect(self) -> Any:
        c = self.counts
        cases = GaugeMetricFamily("gridline_cases", "Cases by status and priority", labels=["status", "priority"])
        pages = GaugeMetricFamily("gridline_pages", "Pages by channel and status", labels=["channel", "status"])
        steps = GaugeMetricFamily("gridline_escalation_steps_pending", "Escalation steps waiting to run")
        due = GaugeMetricFamily("gridline_escalation_steps_overdue", "Pending steps already due")
        outbox = GaugeMetricFamily("gridline_outbox_queued", "Outbound messages waiting for delivery")
        inbox = GaugeMetricFamily("gridline_inbox_unprocessed", "Inbound events not processed yet")
        twice = GaugeMetricFamily("gridline_sends_possibly_twice",
                                  "Interrupted sends made again where the provider could not be asked")
        for status, priority, count in c.cases:
            cases.add_metric([status, priority], count)
        for channel, status, count in c.pages:
            pages.add_metric([channel, status], count)
        steps.add_metric([], c.steps_pending)
        due.add_metric([], c.steps_overdue)
        outbox.add_metric([], c.outbox_queued)
        inbox.add_metric([], c.inbox_unprocessed)
        twice.add_metric([], c.possibly_twice)
        yield from (cases, pages, steps, due, outbox, inbox, twice)


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    registry = CollectorRegistry()
    counts = await in_transaction(_services(request), _read_counts)
    registry.register(_DatabaseCollector(counts))  # type: ignore[arg-type]
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
