"""Broadcasts (通知) in the console: compose, preview the recipient count, confirm, watch, cancel.

Only supervisors (within their grids) and administrators broadcast; every step is a POST with the
session's CSRF token and is audited (``routing.broadcasts.transition``). The broadcast's page shows
its delivery counts and replies, refreshed by ``/console/broadcasts/<id>/counts`` (JSON).
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from gridline.console.http import ConsoleContext, Forbidden, NotFound, client_ip, in_console, redirect
from gridline.domain.lifecycle import ForbiddenTransition
from gridline.edge.params import RowId
from gridline.i18n import t
from gridline.routing import broadcasts as flow
from gridline.storage import broadcasts
from gridline.storage.models import Broadcast

router = APIRouter()
MAX_GRIDS = 200


def _may_broadcast(ctx: ConsoleContext) -> None:
    if ctx.viewer.role not in ("admin", "supervisor"):
        raise Forbidden()


def _grid_choices(ctx: ConsoleContext) -> list[tuple[str, str]]:
    allowed = ctx.viewer.grid_codes
    return sorted(
        (code, ctx.tree.name(code)) for code, grid in ctx.tree.grids.items()
        if grid.level == 3 and (allowed is None or code in allowed)
    )  # fmt: skip


def _visible(ctx: ConsoleContext, broadcast_id: int) -> Broadcast:
    broadcast = broadcasts.get(ctx.session, broadcast_id)
    allowed = ctx.viewer.grid_codes
    if broadcast is None or ctx.viewer.role == "leader" or (
        allowed is not None and not set(broadcast.grid_codes) <= allowed
    ):
        raise NotFound()
    return broadcast


def _resolve_grids(ctx: ConsoleContext, chosen: list[str]) -> tuple[str, ...]:
    """Every chosen grid with the grids below it; a grid unknown or outside the viewer's is refused."""
    if len(chosen) > MAX_GRIDS:
        raise flow.BroadcastError("broadcast.error.too_many_grids", limit=MAX_GRIDS)
    allowed = ctx.viewer.grid_codes
    codes: set[str] = set()
    for code in chosen:
        below = ctx.tree.subtree(code)
        if not below or (allowed is not None and code not in allowed):
            raise flow.BroadcastError("broadcast.error.unknown_grid", grid=code[:64])
        codes |= below if allowed is None else below & allowed
    return tuple(sorted(codes))


def _local_time(ctx: ConsoleContext, raw: str) -> datetime | None:
    raw = raw.strip()
    if not raw:
        return None
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        raise flow.BroadcastError("broadcast.error.bad_time", value=raw[:40]) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=ctx.tz)
    return parsed


def _form(ctx: ConsoleContext, status_code: int = 200, error: str = "", **values: object) -> Response:
    return ctx.render(
        "broadcasts.html", status_code=status_code, rows=broadcasts.listing(ctx.session, ctx.viewer.grid_codes),
        grid_choices=_grid_choices(ctx), error=error, values=values,
        may_broadcast=ctx.viewer.role in ("admin", "supervisor"), max_body=flow.MAX_BODY, max_title=flow.MAX_TITLE,
    )  # fmt: skip


@router.get("/broadcasts", response_class=HTMLResponse)
async def broadcast_list(request: Request) -> Response:
    def body(ctx: ConsoleContext) -> Response:
        if ctx.viewer.role == "leader":
            raise Forbidden()
        return _form(ctx)

    return await in_console(request, body)


@router.post("/broadcasts")
async def broadcast_draft(request: Request) -> Response:
    form = await request.form()
    title = str(form.get("title") or "")
    text = str(form.get("body") or "")
    chosen = [str(v) for v in form.getlist("grids") if str(v).strip()]
    starts, ends = str(form.get("starts_at") or ""), str(form.get("ends_at") or "")

    def body(ctx: ConsoleContext) -> Response:
        _may_broadcast(ctx)
        try:
            draft = flow.check_draft(title, text, _resolve_grids(ctx, chosen), _local_time(ctx, starts),
                                     _local_time(ctx, ends))
        except flow.BroadcastError as exc:
            return _form(ctx, 400, t(exc.key, ctx.lang, **exc.params), title=title[:200], body=text[:2000],
                         grids=chosen, starts_at=starts[:40], ends_at=ends[:40])
        broadcast = flow.create_draft(ctx.work, draft, ctx.viewer.actor, client_ip(request))
        return redirect(f"/console/broadcasts/{broadcast.id}")

    return await in_console(request, body, form=form)


@router.get("/broadcasts/{broadcast_id}", response_class=HTMLResponse)
async def broadcast_page(request: Request, broadcast_id: RowId) -> Response:
    def body(ctx: ConsoleContext) -> Response:
        broadcast = _visible(ctx, broadcast_id)
        counts = flow.counts(ctx.work, broadcast)
        settings = ctx.services.settings  # the preview reads as most residents get it, whatever the console's language
        preview = flow.render(broadcast, settings.default_language, settings.timezone)
        estimate = flow.estimate(ctx.work, broadcast, ctx.services.settings) if broadcast.status == "draft" else None
        return ctx.render(
            "broadcast.html", b=broadcast, counts=counts, preview=preview, estimate=estimate,
            minutes=max(1, round(estimate.seconds / 60)) if estimate else 0,
            grids=[ctx.tree.name(code) for code in broadcast.grid_codes if code in ctx.tree.grids],
            may_broadcast=ctx.viewer.role in ("admin", "supervisor"), error=request.query_params.get("error", ""),
        )  # fmt: skip

    return await in_console(request, body)


@router.get("/broadcasts/{broadcast_id}/counts")
async def broadcast_counts(request: Request, broadcast_id: RowId) -> Response:
    def body(ctx: ConsoleContext) -> Response:
        broadcast = _visible(ctx, broadcast_id)
        return JSONResponse({"status": broadcast.status, **asdict(flow.counts(ctx.work, broadcast))})

    return await in_console(request, body)


@router.post("/broadcasts/{broadcast_id}/confirm")
async def broadcast_confirm(request: Request, broadcast_id: RowId) -> Response:
    form = await request.form()

    def body(ctx: ConsoleContext) -> Response:
        _may_broadcast(ctx)
        _visible(ctx, broadcast_id)
        try:
            flow.confirm(ctx.work, broadcast_id, ctx.viewer.actor, ctx.services.settings, client_ip(request))
        except flow.BroadcastError as exc:
            return redirect(f"/console/broadcasts/{broadcast_id}", error=exc.key.rsplit(".", 1)[-1])
        except ForbiddenTransition:
            return redirect(f"/console/broadcasts/{broadcast_id}", error="not_draft")
        return redirect(f"/console/broadcasts/{broadcast_id}")

    return await in_console(request, body, form=form)


@router.post("/broadcasts/{broadcast_id}/cancel")
async def broadcast_cancel(request: Request, broadcast_id: RowId) -> Response:
    form = await request.form()

    def body(ctx: ConsoleContext) -> Response:
        _may_broadcast(ctx)
        _visible(ctx, broadcast_id)
        try:
            flow.cancel(ctx.work, broadcast_id, ctx.viewer.actor, ctx.services.settings, client_ip(request))
        except ForbiddenTransition:
            return redirect(f"/console/broadcasts/{broadcast_id}", error="finished")
        return redirect(f"/console/broadcasts/{broadcast_id}")

    return await in_console(request, body, form=form)
