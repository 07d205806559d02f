"""平安守护 in the console: a member's check-in opt-in (on the household's page), and sweeps —
start one for chosen grids and tags, watch its coverage update live (docs/checkins.md)."""

from __future__ import annotations

import contextlib
import json
import unicodedata
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from gridline.console.http import ConsoleContext, Forbidden, NotFound, client_ip, in_console, redirect, state_of
from gridline.console.live import CONNECTED, KEEPALIVE_SECONDS, comment, watch
from gridline.console.roster_access import can_edit_roster, roster_scope
from gridline.console.sessions import SESSION_COOKIE, lookup_session
from gridline.edge.params import RowId
from gridline.kernel.services import Services
from gridline.kernel.work import Work, in_transaction
from gridline.routing.checkins import (
    CHANNELS,
    CheckInMeasures,
    known_reasons,
    measures,
    parse_time,
    reason_label,
    replan_member,
)
from gridline.routing.roster import known_tags, tag_label
from gridline.routing.sweeps import SweepRefused, coverage, start_sweep
from gridline.storage import households as roster
from gridline.storage import sweeps as store
from gridline.storage.audit import record

router = APIRouter()


def _can_sweep(ctx: ConsoleContext) -> bool:
    return ctx.viewer.role in ("admin", "supervisor")


def _base_grids(ctx: ConsoleContext) -> list[tuple[str, str]]:
    scope = roster_scope(ctx.session, ctx.viewer, ctx.tree)
    return [(code, ctx.tree.name(code)) for code, g in ctx.tree.grids.items() if g.level == 3 and scope.allows(code)]


def _visible(ctx: ConsoleContext, grid_codes: list[str]) -> bool:
    scope = roster_scope(ctx.session, ctx.viewer, ctx.tree)
    return any(scope.allows(code) for code in grid_codes)


def _week(ctx: ConsoleContext) -> CheckInMeasures:
    """The 平安守护 measures of the last seven days in the viewer's grids."""
    scope = roster_scope(ctx.session, ctx.viewer, ctx.tree)
    return measures(ctx.work, ctx.now - timedelta(days=7), scope.grid_codes)


def _form_choices(ctx: ConsoleContext) -> dict[str, Any]:
    settings = ctx.services.settings
    return {
        "reasons": [(code, reason_label(settings, code, ctx.lang)) for code in known_reasons(settings)],
        "grid_choices": _base_grids(ctx),
        "tags": [(code, tag_label(settings, code, ctx.lang)) for code in known_tags(settings)],
    }


@router.get("/sweeps", response_class=HTMLResponse)
async def sweep_list(request: Request) -> Response:
    def body(ctx: ConsoleContext) -> Response:
        sweeps = [s for s in store.recent_sweeps(ctx.session) if _visible(ctx, s.grid_codes)]
        return ctx.render(
            "sweeps.html", sweeps=sweeps, can_sweep=_can_sweep(ctx), error="", chosen={}, **_form_choices(ctx),
            label=lambda code: reason_label(ctx.services.settings, code, ctx.lang), week=_week(ctx),
        )  # fmt: skip

    return await in_console(request, body)


@router.post("/sweeps")
async def sweep_start(request: Request) -> Response:
    """Start a sweep; bad input answers 400 with the form and what was wrong (nothing is written)."""
    form = await request.form()
    reason = str(form.get("reason") or "")
    grids = [str(v) for v in form.getlist("grids")][:500]
    tags = [str(v) for v in form.getlist("tags")][:50]

    def body(ctx: ConsoleContext) -> Response:
        if not _can_sweep(ctx):
            raise Forbidden()
        allowed = {code for code, _ in _base_grids(ctx)}
        try:
            started = start_sweep(
                ctx.work, ctx.services.settings, reason=reason, grid_codes=grids, tags=tags,
                started_by=ctx.viewer.actor, allowed_grids=allowed,
            )  # fmt: skip
        except SweepRefused as refused:
            sweeps = [s for s in store.recent_sweeps(ctx.session) if _visible(ctx, s.grid_codes)]
            return ctx.render(
                "sweeps.html", status_code=400, sweeps=sweeps, can_sweep=True, error=refused.text(ctx.lang),
                chosen={"reason": reason, "grids": set(grids), "tags": set(tags)}, **_form_choices(ctx),
                label=lambda code: reason_label(ctx.services.settings, code, ctx.lang), week=_week(ctx),
            )  # fmt: skip
        record(ctx.session, at=ctx.now, actor=ctx.viewer.actor, action="sweep.start", target_kind="sweep",
               target_id=started.sweep.id or 0, detail={"reason": reason, "grids": sorted(set(grids)), "tags": tags,
                                                   "households": started.sweep.households},
               ip=client_ip(request))  # fmt: skip
        return redirect(f"/console/sweeps/{started.sweep.id}")

    return await in_console(request, body, form=form)


def _sweep_page(ctx: ConsoleContext, sweep_id: int) -> Response:
    found = coverage(ctx.work, sweep_id)
    if found is None or not _visible(ctx, found.sweep.grid_codes):
        raise NotFound()
    questions = store.sweep_questions(ctx.session, sweep_id, limit=2000)
    scope = roster_scope(ctx.session, ctx.viewer, ctx.tree)
    rooms = {
        h.id: h
        for h in roster.listing(ctx.session, scope, limit=100_000)[0]
        if h.grid_code in set(found.sweep.grid_codes)
    }
    attention = [q for q in questions if q.status in ("help", "missed") and q.household_id in rooms]
    return ctx.render(
        "sweep.html", cov=found, s=found.sweep, attention=attention, rooms=rooms,
        reason=reason_label(ctx.services.settings, found.sweep.reason, ctx.lang),
    )  # fmt: skip


@router.get("/sweeps/{sweep_id}", response_class=HTMLResponse)
async def sweep_page(request: Request, sweep_id: RowId) -> Response:
    return await in_console(request, lambda ctx: _sweep_page(ctx, sweep_id))


@router.get("/sweeps/{sweep_id}/coverage")
async def sweep_coverage(request: Request, sweep_id: RowId) -> Response:
    def body(ctx: ConsoleContext) -> Response:
        found = coverage(ctx.work, sweep_id)
        if found is None or not _visible(ctx, found.sweep.grid_codes):
            raise NotFound()
        return Response(json.dumps(found.as_dict()), media_type="application/json")

    return await in_console(request, body)


async def coverage_events(
    services: Services,
    sweep_id: int,
    *,
    still_logged_in: Callable[[], Awaitable[bool]],
    keepalive: float = KEEPALIVE_SECONDS,
) -> AsyncIterator[str]:
    """SSE frames: the sweep's coverage now, then again after every change to one of its questions."""

    async def frame() -> str:
        found = await in_transaction(services, coverage, sweep_id)
        data = found.as_dict() if found is not None else {}
        return f"event: coverage\ndata: {json.dumps(data)}\n\n"

    events = watch(services, "checkins", still_logged_in=still_logged_in, keepalive=keepalive)
    async with contextlib.aclosing(events):
        async for event in events:
            if isinstance(event, str):
                yield comment(event)
                if event == CONNECTED:
                    yield await frame()
            elif event.get("sweep_id") == sweep_id:
                yield await frame()


@router.get("/sweeps/{sweep_id}/events")
async def sweep_events(request: Request, sweep_id: RowId) -> Response:
    """Server-sent events: the sweep's coverage, live (asked / ok / help / no answer)."""

    def body(ctx: ConsoleContext) -> None:
        found = store.get_sweep(ctx.session, sweep_id)
        if found is None or not _visible(ctx, found.grid_codes):
            raise NotFound()

    await in_console(request, body)
    services = state_of(request).services
    cookie = request.cookies.get(SESSION_COOKIE)

    def logged_in(work: Work) -> bool:
        secret = services.settings.server.secret_key
        return lookup_session(work.session, cookie, now=work.now, secret=secret) is not None

    async def still_logged_in() -> bool:
        return await in_transaction(services, logged_in)

    return StreamingResponse(
        coverage_events(services, sweep_id, still_logged_in=still_logged_in),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


# --- a member's opt-in ---------------------------------------------------------------------


def parse_days(raw: str) -> list[int] | None:
    """``1,3,5`` (ISO weekdays, 1 = Monday) → [1, 3, 5]; "" → [] (every day); None when malformed."""
    # NFKC: the full-width comma and digits of a Chinese keyboard are the ASCII ones.
    parts = [p.strip() for p in unicodedata.normalize("NFKC", raw).split(",") if p.strip()]
    if not all(p.isascii() and p.isdigit() and 1 <= int(p) <= 7 for p in parts):
        return None
    return sorted({int(p) for p in parts})


@router.post("/households/{household_id}/checkin/{person_id}")
async def member_checkin(request: Request, household_id: RowId, person_id: RowId) -> Response:
    """A member's 平安守护 channel, time and days (empty channel = not opted in); audited."""
    form = await request.form()
    channel = str(form.get("channel") or "").strip()
    at = str(form.get("time") or "").strip()
    days_raw = str(form.get("days") or "").strip()[:40]
    target = f"/console/households/{household_id}"

    def body(ctx: ConsoleContext) -> Response:
        if not can_edit_roster(ctx.viewer):
            raise Forbidden()
        household = roster.get(ctx.session, roster_scope(ctx.session, ctx.viewer, ctx.tree), household_id)
        if household is None:
            raise NotFound()
        person = next((p for p in roster.people_of(ctx.session, household_id) if p.id == person_id), None)
        if person is None or person.kind != "member":
            raise NotFound()
        if channel and channel not in CHANNELS:
            return redirect(target, error="checkin_channel")
        if at and parse_time(at) is None:
            return redirect(target, error="checkin_time")
        days = parse_days(days_raw)
        if days is None:
            return redirect(target, error="checkin_days")
        if channel in ("sms", "voice") and not person.phone:
            return redirect(target, error="checkin_phone")
        before = {"channel": person.checkin_channel, "time": person.checkin_time, "days": person.checkin_days}
        person.checkin_channel = channel or None
        person.checkin_time = at or None
        person.checkin_days = days
        ctx.session.add(person)
        replan_member(ctx.work, ctx.services.settings, person)
        after = {"channel": person.checkin_channel, "time": person.checkin_time, "days": days}
        record(ctx.session, at=ctx.now, actor=ctx.viewer.actor, action="household.checkin", target_kind="household",
               target_id=household_id, detail={"grid_code": household.grid_code, "person": person_id,
                                               "from": before, "to": after}, ip=client_ip(request))  # fmt: skip
        return redirect(target, done="checkin_saved")

    return await in_console(request, body, form=form)
