"""What supervisors do from a case page: re-categorise, reassign, merge, note, close, correct a label,
and reveal a resident's contact details. Every action is checked against the viewer's role and
scope, carries the session's CSRF token, and is written to the audit log (by the routing functions
for case actions, here for reveals)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from gridline.console.access import can_see_case, case_scope, message_scope
from gridline.console.choices import CATEGORIES, INTENTS
from gridline.console.http import ConsoleContext, Forbidden, NotFound, client_ip, in_console, redirect
from gridline.edge.params import RowId
from gridline.nlu.corrections import CorrectionError, record_correction
from gridline.routing import supervision
from gridline.storage import cases, conversations, directory
from gridline.storage.audit import record
from gridline.storage.models import Case, ChannelIdentity, Resident

router = APIRouter()

# Refusals the case page names as they are (``console.fail.<code>``) rather than "that did not work".
SAID_CODES = frozenset({"cannot_take"})


def _case_url(case_id: int) -> str:
    return f"/console/cases/{case_id}"


async def _run(request: Request, case_id: int, work: Callable[[ConsoleContext, Case, Any], str],
               *, needs: str = "manage") -> Response:
    """Check role, CSRF and scope, then do ``work`` in the same transaction; its return value is the
    catalogue key shown. A refused action (ValueError, LookupError) changes nothing."""
    form = await request.form()

    def body(ctx: ConsoleContext) -> str:
        allowed = ctx.viewer.can_manage_cases if needs == "manage" else ctx.viewer.can_add_notes
        if not allowed:
            raise Forbidden()
        case = can_see_case(ctx.session, ctx.viewer, case_id)
        if case is None:
            raise NotFound()
        return work(ctx, case, form)

    try:
        done = await in_console(request, body, form=form)
    except (ValueError, LookupError) as exc:
        return redirect(_case_url(case_id), error=_error_key(exc))
    return redirect(_case_url(case_id), done=done)


def _error_key(exc: Exception) -> str:
    text = str(exc)
    if text in SAID_CODES:
        return text
    if "closed" in text:
        return "case_closed"
    if "itself" in text:
        return "merge_self"
    return "action_failed"


@router.post("/cases/{case_id}/recategorise")
async def recategorise(request: Request, case_id: RowId) -> Response:
    def work(ctx: ConsoleContext, case: Case, form: Any) -> str:
        category = str(form.get("category", ""))
        if category not in CATEGORIES:
            raise ValueError("unknown category")
        supervision.recategorise_case(ctx.work, ctx.services.settings, case.id or 0, category, ctx.viewer.actor)
        return "recategorised"

    return await _run(request, case_id, work)


@router.post("/cases/{case_id}/reassign")
async def reassign(request: Request, case_id: RowId) -> Response:
    def work(ctx: ConsoleContext, case: Case, form: Any) -> str:
        code = str(form.get("staff", ""))
        staff = directory.staff_by_codes(ctx.session, [code]).get(code)
        if staff is None or staff.id is None:
            raise LookupError("unknown staff member")
        result = supervision.reassign_by_supervisor(ctx.work, ctx.services, case.id or 0, staff.id, ctx.viewer.actor)
        if not result.ok:
            raise ValueError(result.code)
        return "reassigned"

    return await _run(request, case_id, work)


@router.post("/cases/{case_id}/merge")
async def merge(request: Request, case_id: RowId) -> Response:
    def work(ctx: ConsoleContext, case: Case, form: Any) -> str:
        ref = str(form.get("into", "")).strip().upper()
        into = cases.by_ref(ctx.session, ref)
        # The surviving case must be visible to the viewer too (else: "no such case").
        if into is None or into.id is None or can_see_case(ctx.session, ctx.viewer, into.id) is None:
            raise LookupError("unknown case")
        supervision.merge_cases(ctx.work, case.id or 0, into.id, ctx.viewer.actor)
        return "merged"

    return await _run(request, case_id, work)


@router.post("/cases/{case_id}/note")
async def note(request: Request, case_id: RowId) -> Response:
    def work(ctx: ConsoleContext, case: Case, form: Any) -> str:
        text = str(form.get("text", "")).strip()
        if not text:
            raise ValueError("empty note")
        supervision.note_case(ctx.work, case.id or 0, text, ctx.viewer.actor)
        return "noted"

    return await _run(request, case_id, work, needs="note")


@router.post("/cases/{case_id}/close")
async def close(request: Request, case_id: RowId) -> Response:
    def work(ctx: ConsoleContext, case: Case, form: Any) -> str:
        reason = str(form.get("reason", "")).strip()[:300]
        supervision.close_by_supervisor(ctx.work, case.id or 0, ctx.viewer.actor, reason)
        return "closed"

    return await _run(request, case_id, work)


@router.post("/messages/{message_id}/correct")
async def correct_label(request: Request, message_id: RowId) -> Response:
    """Record the right intent for a resident's message (training data for the next model)."""
    form = await request.form()
    back = str(form.get("back", ""))
    intent = str(form.get("intent", ""))

    def body(ctx: ConsoleContext) -> tuple[str, bool, str]:
        if not ctx.viewer.can_manage_cases:
            raise Forbidden()
        message = conversations.visible_message(ctx.session, message_id, scope=message_scope(ctx.viewer))
        if message is None or message.direction != "in":
            raise NotFound()
        target = back if back.startswith("/console/") else (
            _case_url(message.case_id) if message.case_id else f"/console/conversations/{message.conversation_id}"
        )
        return target, intent in INTENTS and bool(message.text), ctx.viewer.actor

    target, labelable, actor = await in_console(request, body, form=form)
    if not labelable:
        return redirect(target, error="bad_label")
    services = request.app.state.console.services
    try:
        # The NLU's correction store opens its own transaction; in a database thread, off the loop.
        await services.db.run(record_correction, services, message_id, intent, actor)
    except CorrectionError:
        return redirect(target, error="bad_label")
    return redirect(target, done="corrected")


@router.post("/reveal/{kind}/{item_id}")
async def reveal(request: Request, kind: str, item_id: RowId) -> Response:
    """Show one masked contact detail (or one message's unmasked text) — audited.

    ``kind``: ``resident`` (phone), ``identity`` (a channel identity), ``message`` (a message's text).
    Answers JSON to the page's script, or a small page without script.
    """
    form = await request.form()

    def body(ctx: ConsoleContext) -> Response:
        if not ctx.viewer.can_reveal_contacts:
            raise Forbidden()
        value, case_id = _revealable(ctx, kind, item_id)
        record(ctx.session, at=ctx.now, actor=ctx.viewer.actor, action="console.reveal", target_kind=kind,
               target_id=item_id, detail={"case_id": case_id}, ip=client_ip(request))
        if "application/json" in request.headers.get("accept", ""):
            return JSONResponse({"value": value})
        return ctx.render("reveal.html", value=value, case_id=case_id, kind=kind)

    return await in_console(request, body, form=form)


def _revealable(ctx: ConsoleContext, kind: str, item_id: int) -> tuple[str, int | None]:
    """The unmasked value, only if it belongs to something the viewer may see."""
    session, viewer = ctx.session, ctx.viewer
    if kind == "message":
        message = conversations.visible_message(session, item_id, scope=message_scope(viewer))
        if message is None:
            raise NotFound()
        return message.text or "", message.case_id
    if kind == "resident":
        resident = session.get(Resident, item_id)
    elif kind == "identity":
        identity = session.get(ChannelIdentity, item_id)
        if identity is None or identity.resident_id is None:
            raise NotFound()
        resident = session.get(Resident, identity.resident_id)
    else:
        raise NotFound()
    if resident is None:
        raise NotFound()
    # The resident must have a message or case the viewer may see.
    visible = conversations.resident_has_message(session, resident.id or 0, scope=message_scope(viewer))
    case = cases.latest_of_resident(session, resident.id or 0, scope=case_scope(viewer))
    case_visible = case is not None
    if not visible and not case_visible:
        raise NotFound()
    if kind == "resident":
        return resident.phone or "", case.id if case_visible and case else None
    identity = session.get(ChannelIdentity, item_id)
    assert identity is not None
    value = identity.external_id if identity.channel in ("sms", "voice") else (identity.display or identity.external_id)
    return value, case.id if case_visible and case else None


@router.get("/reveal", response_class=HTMLResponse, include_in_schema=False)
async def reveal_get() -> Response:
    return redirect("/console/cases")
