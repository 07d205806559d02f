"""The department loop and extensions from the staff inbox: 签收 / 回单 / 退单 / 延期 for department
staff, 转办 / 通过 / 驳回 / 延期 / 同意 / 不同意 for the grid — the same domain actions as an SMS text or a
Telegram button (``routing.loop_actions``), on channel ``web``, for a case in the person's inbox."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from gridline.console.http import ConsoleContext, NotFound, redirect, state_of
from gridline.console.inbox.views import INBOX, acting_staff, in_context
from gridline.domain.lifecycle import StaffRole
from gridline.edge.params import RowId
from gridline.routing.loop_actions import act_on_loop
from gridline.routing.loop_grammar import VERB_NAMES, LoopText, LoopVerb
from gridline.storage import cases
from gridline.storage import staff_inbox as store
from gridline.storage.models import Staff

router = APIRouter()
DEPARTMENT_VERBS: tuple[LoopVerb, ...] = ("accept", "reply", "return", "extend")
GRID_VERBS: tuple[LoopVerb, ...] = ("transfer", "approve", "reject", "extend", "grant", "refuse")
# The result codes the inbox can show after a loop action (``console.inbox.result.<code>``).
LOOP_OK = frozenset({"transferred", "accepted", "replied", "returned", "approved", "approved_quiet", "rejected",
                     "extension_requested", "extension_approved", "extension_refused"})  # fmt: skip
LOOP_REFUSED = frozenset({"not_accepted", "already_accepted", "not_your_transfer", "no_transfer", "bad_reason",
                          "nothing_to_review", "already_transferred", "no_department", "empty_reply", "no_reason",
                          "bad_amount", "pending", "nothing_pending", "not_holder", "not_held", "state",
                          "use_loop"})  # fmt: skip


def verbs_for(staff: Staff | None) -> tuple[LoopVerb, ...]:
    """What the inbox offers this person on a case."""
    if staff is None:
        return ()
    return DEPARTMENT_VERBS if staff.role == StaffRole.DEPARTMENT.value else GRID_VERBS


@router.post("/inbox/cases/{case_id}/loop")
async def loop_action(request: Request, case_id: RowId) -> Response:
    form = await request.form()
    verb = str(form.get("verb", ""))
    text = str(form.get("text", "")).strip()[:2000]
    services = state_of(request).services

    def body(ctx: ConsoleContext) -> tuple[str, str]:
        staff_id = acting_staff(ctx)
        if store.inbox_case(ctx.session, staff_id, case_id) is None:
            raise NotFound()
        staff = ctx.session.get(Staff, staff_id)
        case = cases.get(ctx.session, case_id)
        if staff is None or case is None or verb not in VERB_NAMES or verb not in verbs_for(staff):
            return "bad_action", ""
        loop = LoopText(verb, None, case.ref, text, channel="web")  # type: ignore[arg-type]
        result = act_on_loop(ctx.work, services, staff, case, None, loop)
        return result.notice, result.case_ref

    code, ref = await in_context(request, body, form)
    return redirect(INBOX, done=code, ref=ref, case=str(case_id))
