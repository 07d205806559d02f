"""上报: a staff member sends the case up now — it is marked escalated, every open page ends, and
the policy's next step runs at once (``routing.escalation.escalate_case``)."""

from __future__ import annotations

from gridline.domain.lifecycle import CaseStatus
from gridline.kernel.notify import said
from gridline.kernel.work import Work
from gridline.routing.action_result import ActionResult
from gridline.routing.escalation import escalate_case
from gridline.routing.pages import expire_other_pages
from gridline.routing.timeline import publish_case, transition
from gridline.storage.models import Case, Staff


def escalate_now(work: Work, case: Case, staff: Staff, actor: str) -> ActionResult:
    """``staff`` passes ``case`` up the policy."""
    transition(work, case, CaseStatus.ESCALATED, kind="escalated_by_staff", actor=actor, data={"name": staff.name})
    expire_other_pages(work, case, None, "page.note_escalated_by", name=staff.name)
    escalate_case(work, case, f"escalated by {staff.code}")
    publish_case(work, case)
    return ActionResult(True, "escalated", said("action.escalated", staff.lang, ref=case.ref), case.ref, staff.name)
