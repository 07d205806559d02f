"""转交: the case is handed to another person (by its holder from a channel, or by a supervisor from
the console). The new person is paged in the first step's place, the policy carries on from its
second step, and the resident is told who has it now."""

from __future__ import annotations

from gridline.domain.lifecycle import CaseStatus
from gridline.kernel.notify import said
from gridline.kernel.outbox import tell_reporters
from gridline.kernel.work import Work
from gridline.routing.action_result import ActionResult
from gridline.routing.escalation import restart_escalation
from gridline.routing.pages import create_page, expire_other_pages, next_contact_method
from gridline.routing.timeline import publish_case, transition
from gridline.storage.models import Case, Staff


def reassign_case(work: Work, case: Case, staff: Staff, target: Staff, actor: str) -> ActionResult:
    """``staff`` hands ``case`` to ``target`` (who may take it is the caller's check: ``may_take``)."""
    method = next_contact_method(work.session, target)
    if method is None:
        return ActionResult(False, "unreachable", said("action.unreachable", staff.lang, name=target.name), case.ref)
    expire_other_pages(work, case, None, "page.note_reassigned", name=target.name)
    transition(work, case, CaseStatus.PAGED, kind="reassigned", actor=actor,
               data={"to": target.code, "name": target.name, "by": staff.name})
    case.acknowledged_by = None
    case.assignee_staff_id = target.id
    # The new person takes the first step's place; the policy carries on from its second step
    # if they do not acknowledge either.
    steps = case.policy.get("steps", [])
    first_wait = float(steps[0]["wait_minutes"]) if steps else 0
    new_round = restart_escalation(work, case, f"reassigned to {target.code}", from_step=1, delay_minutes=first_wait)
    page = create_page(
        work.session,
        case=case,
        staff=target,
        method=method,
        now=work.now,
        step_index=0,
        round_=new_round,
        reason="reassigned",
    )
    work.job("deliver_page", f"page:{page.id}:0", page_id=page.id)
    tell_reporters(work, case, "case.reassigned", name=target.name)
    publish_case(work, case)
    return ActionResult(
        True, "reassigned", said("action.reassigned", staff.lang, ref=case.ref, name=target.name), case.ref, target.name
    )
