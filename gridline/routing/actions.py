"""The one receiver of staff actions (acknowledge / resolve / escalate / reassign) from any channel:
it checks who may act (``routing.who_may_act``) and the case's state, then hands the action to its
concept — ``acknowledging``, ``resolving``, ``staff_escalation`` (上报), ``reassigning`` (转交).

What else people do to cases lives by concept too: the resident's rating (``rating``), staff
replies and notes (``staff_words``), supervisors' console actions (``supervision``), the department
loop (``transfers``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gridline.domain.lifecycle import CaseStatus, StaffRole
from gridline.domain.staff_actions import StaffAction
from gridline.domain.transfers import OPEN_TRANSFER_STATUSES
from gridline.i18n import DEFAULT_LANGUAGE
from gridline.kernel.notify import said
from gridline.kernel.work import Work, in_transaction
from gridline.routing.acknowledging import acknowledge
from gridline.routing.action_result import ActionResult
from gridline.routing.reassigning import reassign_case
from gridline.routing.resolving import resolve
from gridline.routing.staff_escalation import escalate_now
from gridline.routing.who_may_act import may_act, may_take, passed_on
from gridline.storage import cases
from gridline.storage import transfers as transfer_store
from gridline.storage.models import Staff

if TYPE_CHECKING:
    from gridline.kernel.services import Services


async def act_on_case(
    services: Services,
    *,
    case_id: int,
    staff_id: int,
    action: StaffAction,
    channel: str,
    page_id: int | None = None,
    to_staff_id: int | None = None,
) -> ActionResult:
    """A staff member acts on a case from a channel (button, SMS code, key press, console)."""
    return await in_transaction(
        services,
        act,
        services,
        case_id=case_id,
        staff_id=staff_id,
        action=action,
        channel=channel,
        page_id=page_id,
        to_staff_id=to_staff_id,
    )


def act(
    work: Work,
    services: Services,
    *,
    case_id: int,
    staff_id: int,
    action: StaffAction,
    channel: str,
    page_id: int | None = None,
    to_staff_id: int | None = None,
) -> ActionResult:
    """The body of :func:`act_on_case`: check the person may act, then do it, in this transaction."""
    session = work.session
    case = cases.get(session, case_id)
    staff = session.get(Staff, staff_id)
    if staff is None:
        return ActionResult(False, "not_allowed", said("action.not_allowed", DEFAULT_LANGUAGE))
    lang = staff.lang
    if case is None:
        return ActionResult(False, "unknown_case", said("action.unknown_case", lang))
    if not may_act(services, work, case, staff):
        if passed_on(work, case, staff):
            holder = session.get(Staff, case.assignee_staff_id) if case.assignee_staff_id else None
            name = holder.name if holder else "—"
            return ActionResult(False, "passed_on", said("action.passed_on", lang, ref=case.ref, name=name), case.ref)
        return ActionResult(False, "not_allowed", said("action.not_allowed", lang, ref=case.ref), case.ref)
    if (
        case.status in (CaseStatus.CLOSED, CaseStatus.RESOLVED) and action != "resolve"
    ) or case.status == CaseStatus.CLOSED:
        closer = session.get(Staff, case.resolved_by) if case.resolved_by else None
        return ActionResult(
            False,
            "case_closed",
            said("action.case_closed", lang, ref=case.ref, name=closer.name if closer else "—"),
            case.ref,
            closer.name if closer else None,
        )
    if staff.role == StaffRole.DEPARTMENT.value and transfer_store.latest_in(
        session, case.id or 0, [s.value for s in OPEN_TRANSFER_STATUSES]
    ):
        # A transferred case is the department's by 签收 / 回单 / 退单, reviewed by the grid (routing.transfers).
        return ActionResult(False, "use_loop", said("transfer.refused.use_loop", lang, ref=case.ref), case.ref)
    actor = f"staff:{staff.code}"
    if action == "acknowledge":
        return acknowledge(work, case, staff, channel, page_id, actor)
    if action == "resolve":
        return resolve(work, case, staff, channel, page_id, actor)
    if action == "escalate":
        return escalate_now(work, case, staff, actor)
    if action == "reassign":
        target = session.get(Staff, to_staff_id) if to_staff_id else None
        if target is None or not target.active:
            return ActionResult(False, "unknown_staff", said("action.unknown_staff", lang), case.ref)
        if not may_take(services, work, case, target, staff):
            return ActionResult(False, "cannot_take", said("action.cannot_take", lang, ref=case.ref, name=target.name),
                                case.ref)
        return reassign_case(work, case, staff, target, actor)
    raise ValueError(f"unknown action {action!r}")
