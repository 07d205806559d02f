"""The inbox page and what staff do from it. Every POST carries the session's CSRF token (checked by
:func:`~gridline.console.http.in_console`); every case is looked up within the signed-in staff
member's inbox first (404 otherwise), and the domain action then checks their authority again."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from gridline.console.http import ConsoleContext, Forbidden, NotFound, in_console, redirect, state_of
from gridline.console.inbox.listing import STAFF_ACTIONS, Handing, load_inbox
from gridline.edge.params import RowId
from gridline.edge.text import ascii_int
from gridline.i18n import t
from gridline.routing.action_result import ActionResult
from gridline.routing.actions import act_on_case
from gridline.routing.directory import Directory
from gridline.routing.roster import tag_label
from gridline.routing.staff_words import note_case
from gridline.routing.visits import VisitReport, owed_for_inbox, record_visit
from gridline.storage import staff_inbox as store
from gridline.storage.models import Staff

router = APIRouter()

INBOX = "/console/inbox"
CHANNEL = "web"
MAX_NOTE = 2000
REF_RE = re.compile(r"[A-Z0-9]{4,16}")
# ``_quiet``: the same on a case with no resident to tell (routing.action_result.ActionResult.notice).
OK_CODES = frozenset({"acknowledged", "acknowledged_quiet", "resolved", "resolved_quiet", "escalated", "reassigned",
                      "noted"})
# Evidence uploads (console.views.evidence) come back here with "evidence_<code>".
EVIDENCE_OK = frozenset({"evidence_attached", "evidence_already_attached"})
EVIDENCE_REFUSED = frozenset({"evidence_too_large", "evidence_not_an_image", "evidence_empty", "evidence_not_allowed",
                              "evidence_unknown_case", "evidence_store_failed"})
OK_CODES = OK_CODES | EVIDENCE_OK
# 走千家: a visit logged from the inbox (routing.visits.VisitLogged codes).
VISIT_OK = frozenset({"visit_logged"})
VISIT_REFUSED = frozenset({"visit_not_your_grid", "visit_already_done", "visit_unknown_visit", "visit_bad_outcome"})
OK_CODES = OK_CODES | VISIT_OK
RESULT_CODES = OK_CODES | EVIDENCE_REFUSED | VISIT_REFUSED | {
    "already_acknowledged", "not_allowed", "passed_on", "case_closed", "unknown_case", "unknown_staff", "unreachable",
    "cannot_take",
    "bad_action", "empty_note",
}
BUTTON_KEYS = {"acknowledge": "page.button_ack", "resolve": "page.button_resolve",
               "escalate": "page.button_escalate", "reassign": "page.button_reassign"}
T = TypeVar("T")


async def in_context(request: Request, body: Callable[[ConsoleContext], T], form: Mapping[str, Any] | None = None) -> T:
    """Run ``body`` with the logged-in console context in a database thread (never on the event loop)."""
    return await in_console(request, body, form=form)


def acting_staff(ctx: ConsoleContext) -> int:
    """The staff record behind the session; auditors read but never act."""
    if ctx.viewer.role == "auditor" or ctx.viewer.staff_id is None:
        raise Forbidden()
    return ctx.viewer.staff_id


def _handing(ctx: ConsoleContext) -> Handing:
    index = Directory.for_services(ctx.services).grid_index(ctx.session)
    return Handing(ctx.services.settings, index, ctx.now)


@router.get("/inbox", response_class=HTMLResponse)
async def inbox_page(request: Request) -> Response:
    services = state_of(request).services
    push = services.notifiers.get(CHANNEL)
    public_key = getattr(getattr(push, "push", None), "public_key", None)

    def body(ctx: ConsoleContext) -> Response:
        staff_id = ctx.viewer.staff_id
        pages, held = load_inbox(ctx.session, staff_id, ctx.tree, _handing(ctx)) if staff_id is not None else ([], [])
        owed = owed_for_inbox(ctx.session, staff_id, ctx.services.settings, ctx.now) if staff_id is not None else []
        done, ref = request.query_params.get("done", ""), request.query_params.get("ref", "")
        # Only a case reference is echoed back: a crafted link cannot put words in the notice.
        ref = ref if REF_RE.fullmatch(ref) else ""
        from gridline.console.inbox.loop import LOOP_OK, LOOP_REFUSED, verbs_for

        loop_verbs = verbs_for(ctx.session.get(Staff, staff_id)) if staff_id is not None else ()
        ok_codes, result_codes = OK_CODES | LOOP_OK, RESULT_CODES | LOOP_OK | LOOP_REFUSED
        return ctx.render("inbox.html", pages=pages, held=held, linked=staff_id is not None, loop_verbs=loop_verbs,
                          read_only=ctx.viewer.role == "auditor", done=done if done in result_codes else "",
                          ref=ref, vapid_public_key=public_key or "", result_codes=result_codes,
                          ok_codes=ok_codes, button_keys=BUTTON_KEYS, visits=owed,
                          tag_label=lambda code: tag_label(ctx.services.settings, code, ctx.lang),
                          t_global=lambda key, **params: t(key, ctx.lang, **params))

    return await in_context(request, body)


def _result_redirect(result: ActionResult, case_id: int) -> Response:
    return redirect(INBOX, done=result.notice, ref=result.case_ref, case=str(case_id))


@router.post("/inbox/cases/{case_id}/act")
async def act(request: Request, case_id: RowId) -> Response:
    form = await request.form()
    action = str(form.get("action", ""))
    to_staff = ascii_int(str(form.get("to_staff", "")).strip(), lowest=1)

    def check(ctx: ConsoleContext) -> tuple[int, int | None]:
        staff_id = acting_staff(ctx)
        if store.inbox_case(ctx.session, staff_id, case_id) is None:
            raise NotFound()
        page = store.latest_page(ctx.session, staff_id, case_id)
        return staff_id, page.id if page else None

    staff_id, page_id = await in_context(request, check, form)
    if action not in STAFF_ACTIONS or (action == "reassign" and to_staff is None):
        return redirect(INBOX, done="bad_action")
    result = await act_on_case(
        state_of(request).services, case_id=case_id, staff_id=staff_id, action=action,  # type: ignore[arg-type]
        channel=CHANNEL, page_id=page_id, to_staff_id=to_staff if action == "reassign" else None,
    )
    return _result_redirect(result, case_id)


@router.post("/inbox/cases/{case_id}/note")
async def note(request: Request, case_id: RowId) -> Response:
    form = await request.form()
    text = str(form.get("text", "")).strip()[:MAX_NOTE]

    def check(ctx: ConsoleContext) -> int:
        staff_id = acting_staff(ctx)
        if store.inbox_case(ctx.session, staff_id, case_id) is None:
            raise NotFound()
        return staff_id

    staff_id = await in_context(request, check, form)
    if not text:
        return redirect(INBOX, done="empty_note")
    result = await note_case(state_of(request).services, case_id=case_id, staff_id=staff_id, text=text,
                             channel=CHANNEL)
    return _result_redirect(result, case_id)


@router.post("/inbox/visits/{visit_id}/log")
async def log_owed_visit(request: Request, visit_id: RowId) -> Response:
    """走千家 from the inbox: 正常 / 有问题 (with an optional note) for a visit this staff member owes."""
    form = await request.form()
    outcome = str(form.get("outcome", ""))
    note_text = str(form.get("note", "")).strip()[:MAX_NOTE]

    def check(ctx: ConsoleContext) -> tuple[int, str]:
        staff_id = acting_staff(ctx)
        owed = owed_for_inbox(ctx.session, staff_id, ctx.services.settings, ctx.now)
        if all(visit.id != visit_id for visit, _ in owed):
            raise NotFound()
        return staff_id, ctx.lang

    staff_id, lang = await in_context(request, check, form)
    if outcome not in ("ok", "problem"):
        return redirect(INBOX, done="visit_bad_outcome")
    report = VisitReport(outcome="ok" if outcome == "ok" else "problem", note=note_text, visit_id=visit_id,
                         channel=CHANNEL)
    logged = await record_visit(state_of(request).services, report, staff_id=staff_id, lang=lang)
    return redirect(INBOX, done=f"visit_{logged.code}", ref=logged.case_ref or "")


def _subscription_fields(raw: bytes) -> tuple[str, str, str] | None:
    """(endpoint, p256dh, auth) from a browser's ``PushSubscription.toJSON()``, or None if malformed."""
    try:
        data = json.loads(raw or b"{}")
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict):
        return None
    keys = data.get("keys")
    if not isinstance(keys, dict):
        return None
    endpoint, p256dh, auth = data.get("endpoint"), keys.get("p256dh"), keys.get("auth")
    if not all(isinstance(v, str) for v in (endpoint, p256dh, auth)):
        return None
    assert isinstance(endpoint, str) and isinstance(p256dh, str) and isinstance(auth, str)
    if not endpoint.startswith(("https://", "http://")) or len(endpoint) > 1000 or len(p256dh) > 200 \
            or len(auth) > 100:
        return None
    return endpoint, p256dh, auth


@router.post("/inbox/push/subscribe")
async def subscribe(request: Request) -> Response:
    """Remember this browser's push subscription for the signed-in staff member (JSON, CSRF header)."""
    raw = await request.body()
    fields = _subscription_fields(raw[:8192])

    def save(ctx: ConsoleContext) -> Response:
        staff_id = acting_staff(ctx)
        if fields is None:
            return JSONResponse({"ok": False, "error": "malformed subscription"}, status_code=422)
        endpoint, p256dh, auth = fields
        store.save_subscription(ctx.session, staff_id=staff_id, endpoint=endpoint, p256dh=p256dh, auth=auth,
                                user_agent=request.headers.get("user-agent"), now=ctx.now)
        return JSONResponse({"ok": True})

    return await in_context(request, save, {})


@router.post("/inbox/push/unsubscribe")
async def unsubscribe(request: Request) -> Response:
    raw = await request.body()
    fields = _subscription_fields(raw[:8192])

    def drop(ctx: ConsoleContext) -> Response:
        staff_id = acting_staff(ctx)
        if fields is None:
            return JSONResponse({"ok": False, "error": "malformed subscription"}, status_code=422)
        return JSONResponse({"ok": store.drop_subscription(ctx.session, staff_id=staff_id, endpoint=fields[0])})

    return await in_context(request, drop, {})
