"""Resolution (办结): the holder — or the department whose reply was approved — says the case is
solved. Every other page ends, and the resident is asked whether it really is (``routing.closure``)."""

from __future__ import annotations

from gridline.domain.lifecycle import CaseStatus
from gridline.kernel.notify import said
from gridline.kernel.work import Work
from gridline.routing.acknowledging import mark_acknowledged
from gridline.routing.action_result import ActionResult
from gridline.routing.closure import ask_if_solved
from gridline.routing.escalation import cancel_pending_steps
from gridline.routing.pages import acting_page, expire_other_pages
from gridline.routing.timeline import publish_case, transition
from gridline.storage.models import Case, Staff


def resolve(work: Work, case: Case, staff: Staff, channel: str, page_id: int | None, actor: str) -> ActionResult:
    """``staff`` resolves ``case`` from ``channel``, taking it first if nobody has."""
    lang = staff.lang
    if case.status == CaseStatus.RESOLVED:
        return ActionResult(
            False, "case_closed", said("action.case_closed", lang, ref=case.ref, name=staff.name), case.ref
        )
    if case.status != CaseStatus.ACKNOWLEDGED:
        mark_acknowledged(work, case, staff, channel, acting_page(work.session, case, staff, page_id), actor)
    asked = mark_resolved(work, case, staff, channel, actor)
    key = "action.resolved" if asked else "action.resolved_quiet"
    return ActionResult(True, "resolved", said(key, lang, ref=case.ref), case.ref, staff.name, nobody_told=not asked)


def mark_resolved(work: Work, case: Case, staff: Staff, channel: str, actor: str) -> bool:
    """The case is resolved by ``staff`` (the holder, or the department whose reply was approved):
    every other page ends and the resident is asked whether it really is solved (False: nobody to ask)."""
    transition(work, case, CaseStatus.RESOLVED, kind="resolved", actor=actor,
               data={"channel": channel, "name": staff.name})
    case.resolved_by = staff.id
    cancel_pending_steps(work, case.id or 0, "resolved")
    expire_other_pages(work, case, None, "page.note_resolved_by", name=staff.name)
    from gridline.routing.transfers import cancel_open  # the loop builds on these actions

    cancel_open(work, case, actor, "resolved")
    # "Resolved" is the holder's word: the resident is asked whether it really is (routing.closure).
    asked = ask_if_solved(work, case, staff.name)
    publish_case(work, case)
    return asked
