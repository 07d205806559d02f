"""The department loop and extensions from a case page: a supervisor transfers a case to a department,
reviews a department's reply, and asks for or decides an extension (docs/departments.md).

Checked like every case action (role, CSRF, scope); the routing functions check the rest, stamp,
record the case event and write the audit log. A refused action changes nothing and says why.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from gridline.console.access import can_see_case
from gridline.console.http import ConsoleContext, Forbidden, NotFound, in_console, redirect
from gridline.edge.params import RowId
from gridline.i18n import has
from gridline.routing import extensions, transfers
from gridline.routing.action_result import ActionResult

router = APIRouter()


def _actor(ctx: ConsoleContext) -> transfers.Actor:
    return transfers.Actor(ctx.viewer.actor, ctx.lang, ctx.viewer.staff_id, console=True)


async def _run(request: Request, case_id: int, action: Any) -> Response:
    form = await request.form()

    def body(ctx: ConsoleContext) -> ActionResult:
        if not ctx.viewer.can_manage_cases:
            raise Forbidden()
        if can_see_case(ctx.session, ctx.viewer, case_id) is None:
            raise NotFound()
        return action(ctx, form)

    result = await in_console(request, body, form=form)
    url = f"/console/cases/{case_id}"
    if result.ok:
        return redirect(url, done=result.notice)
    return redirect(url, error=result.code if has(f"console.fail.{result.code}") else "action_failed")


def _text(form: Any, name: str, limit: int = 2000) -> str:
    return str(form.get(name) or "").strip()[:limit]


@router.post("/cases/{case_id}/transfer")
async def transfer(request: Request, case_id: RowId) -> Response:
    def action(ctx: ConsoleContext, form: Any) -> ActionResult:
        department = _text(form, "department", 100)
        return transfers.request(ctx.work, ctx.services, case_id, _actor(ctx), department=department,
                                 note=_text(form, "note"), channel="console")  # fmt: skip

    return await _run(request, case_id, action)


@router.post("/cases/{case_id}/transfer/review")
async def review(request: Request, case_id: RowId) -> Response:
    def action(ctx: ConsoleContext, form: Any) -> ActionResult:
        decision = _text(form, "decision", 16)
        if decision not in ("approve", "reject"):
            return ActionResult(False, "action_failed", None)
        return transfers.review(ctx.work, ctx.services, case_id, _actor(ctx), approve=decision == "approve",
                                note=_text(form, "note"), channel="console")  # fmt: skip

    return await _run(request, case_id, action)


@router.post("/cases/{case_id}/extension")
async def ask_extension(request: Request, case_id: RowId) -> Response:
    def action(ctx: ConsoleContext, form: Any) -> ActionResult:
        return extensions.request(ctx.work, ctx.services, case_id, _actor(ctx), amount=_text(form, "amount", 16),
                                  reason=_text(form, "reason", 1000), channel="console")  # fmt: skip

    return await _run(request, case_id, action)


@router.post("/cases/{case_id}/extension/decide")
async def decide_extension(request: Request, case_id: RowId) -> Response:
    def action(ctx: ConsoleContext, form: Any) -> ActionResult:
        decision = _text(form, "decision", 16)
        if decision not in ("grant", "refuse"):
            return ActionResult(False, "action_failed", None)
        return extensions.decide(ctx.work, ctx.services, case_id, _actor(ctx), approve=decision == "grant",
                                 note=_text(form, "note", 1000), channel="console")  # fmt: skip

    return await _run(request, case_id, action)
