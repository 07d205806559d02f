"""Health and metrics: ``/healthz`` checks the database, Redis and NLU; ``/metrics`` for Prometheus."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import func, text
from sqlmodel import select

from gridline.core.services import Services
from gridline.routing.claims import POSSIBLY_TWICE
from gridline.storage.models import AuditLog, Case, EscalationStep, InboundEvent, Message, Page

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
        with services.db.session() as session:
            session.execute(text("select 1"))
        return True

    async def nlu() -> bool:
        result = await services.nlu.parse("你好")
        return bool(result.intent)

    checks = {"database": await _check("database", database()), "nlu": await _check("nlu", nlu())}
    if services.settings.redis.url:
        checks["redis"] = await _check("redis", services.state.ping())
    healthy = all(c["ok"] for c in checks.values())
    body: dict[str, Any] = {
        "status": "ok" if healthy else "degraded",
        "checks": checks,
        "mode": "redis" if services.settings.redis.url else "embedded",
    }
    # Informational (a web process answers without workers): how many job workers are alive.
    workers = getattr(services.jobs, "workers_alive", None)
    if workers is not None:
        try:
            body["jobs"] = {"workers_alive": await asyncio.wait_for(workers(), 3.0)}
        except Exception as exc:
            body["jobs"] = {"error": f"{type(exc).__name__}: {exc}"[:200]}
    return JSONResponse(body, status_code=200 if healthy else 503)


class _DatabaseCollector:
    """Gauges read from the database at scrape time, so every process reports the same truth."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def collect(self) -> Any:
        cases = GaugeMetricFamily("gridline_cases", "Cases by status and priority", labels=["status", "priority"])
        pages = GaugeMetricFamily("gridline_pages", "Pages by channel and status", labels=["channel", "status"])
        steps = GaugeMetricFamily("gridline_escalation_steps_pending", "Escalation steps waiting to run")
        due = GaugeMetricFamily("gridline_escalation_steps_overdue", "Pending steps already due")
        outbox = GaugeMetricFamily("gridline_outbox_queued", "Outbound messages waiting for delivery")
        inbox = GaugeMetricFamily("gridline_inbox_unprocessed", "Inbound events not processed yet")
        twice = GaugeMetricFamily("gridline_sends_possibly_twice",
                                  "Interrupted sends made again where the provider could not be asked")
        now = self.services.clock.now()
        with self.services.db.session() as session:
            for status, priority, count in session.exec(
                select(Case.status, Case.priority, func.count()).group_by(Case.status, Case.priority)
            ):
                cases.add_metric([status, priority], count)
            for channel, status, count in session.exec(
                select(Page.channel, Page.status, func.count()).group_by(Page.channel, Page.status)
            ):
                pages.add_metric([channel, status], count)
            steps.add_metric([], session.exec(select(func.count()).where(EscalationStep.status == "pending")).one())
            due.add_metric(
                [],
                session.exec(
                    select(func.count()).where(EscalationStep.status == "pending", EscalationStep.due_at <= now)
                ).one(),
            )
            outbox.add_metric([], session.exec(select(func.count()).where(Message.status == "queued")).one())
            inbox.add_metric([], session.exec(select(func.count()).where(InboundEvent.status == "received")).one())
            twice.add_metric([], session.exec(select(func.count()).where(AuditLog.action == POSSIBLY_TWICE)).one())
        yield from (cases, pages, steps, due, outbox, inbox, twice)


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    registry = CollectorRegistry()
    registry.register(_DatabaseCollector(_services(request)))  # type: ignore[arg-type]
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
