"""Health and metrics: ``/healthz`` checks the database, Redis and NLU; ``/metrics`` for Prometheus."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily

from gridline.kernel.send_claims import POSSIBLY_TWICE
from gridline.kernel.services import Services
from gridline.kernel.work import Work, in_transaction
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
    """Each dependency's check, and one word for the whole (docs/operations.md, "Health").

    ``ok``; ``degraded`` (200) when only an accelerator is down — Redis: the service still takes and
    answers every message, so a load balancer must keep the process; ``failing`` (503) when the
    database or the NLU is down.
    """
    services = _services(request)

    async def database() -> bool:
        await in_transaction(services, lambda work: gauges.ping(work.session))
        return True

    async def nlu() -> bool:
        result = await services.nlu.parse("你好")
        return bool(result.intent)

    checks = {
        "database": await _check("database", database()),
        "nlu": await _check("nlu", nlu()),
    }
    if services.redis is not None:
        # Bounded by the link's own timeout; while its breaker is open this answers at once.
        checks["redis"] = {**await _check("redis", services.redis.ping()), **services.redis.status()}
    failing = sorted(name for name in ("database", "nlu") if not checks[name]["ok"])
    degraded = sorted(name for name in ("redis",) if name in checks and not checks[name]["ok"])
    status = "failing" if failing else "degraded" if degraded else "ok"
    body: dict[str, Any] = {
        "status": status,
        "checks": checks,
        "mode": "redis" if services.settings.redis.url else "embedded",
    }
    if failing:
        body["failing"] = failing
    if degraded:
        body["degraded"] = degraded
    # Informational (a web process answers without workers): how many job workers are alive.
    workers = getattr(services.jobs, "workers_alive", None)
    if workers is not None:
        try:
            body["jobs"] = {"workers_alive": await asyncio.wait_for(workers(), 3.0)}
        except Exception as exc:
            body["jobs"] = {"error": f"{type(exc).__name__}: {exc}"[:200]}
    return JSONResponse(body, status_code=503 if failing else 200)


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
