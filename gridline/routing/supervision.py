"""What supervisors do to cases from the console: re-categorise (which re-routes), reassign, merge
duplicates, add internal notes, close. The actor is ``console:<user>``; every action is audited.

Staff actions from the channels (acknowledge, resolve, escalate, reassign) are received by
``gridline.routing.actions``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gridline.clock import as_utc
from gridline.domain.explanations import Reason, because
from gridline.domain.lifecycle import CaseStatus
from gridline.i18n import DEFAULT_LANGUAGE
from gridline.kernel.notify import said
from gridline.kernel.outbox import tell_reporters
from gridline.kernel.work import Work, in_transaction
from gridline.nlu.types import ISSUE_CATEGORIES, OTHER_CATEGORY
from gridline.routing.action_result import ActionResult
from gridline.routing.deadlines import resolve_deadline
from gridline.routing.escalation import cancel_pending_steps, restart_escalation
from gridline.routing.pages import expire_other_pages
from gridline.routing.reassigning import reassign_case
from gridline.routing.timeline import publish_case, record_event, transition
from gridline.routing.who_may_act import may_take
from gridline.settings import Settings
from gridline.storage import audit, cases
from gridline.storage.models import Case, CaseEvent, Staff

if TYPE_CHECKING:
    from gridline.kernel.services import Services


async def recategorise(services: Services, case_id: int, category: str, actor: str) -> Case:
    """Change a case's category; an unacknowledged case is re-routed (escalation restarts)."""
    return await in_transaction(services, recategorise_case, services.settings, case_id, category, actor)


def recategorise_case(work: Work, settings: Settings, case_id: int, category: str, actor: str) -> Case:
    if category not in ISSUE_CATEGORIES and category != OTHER_CATEGORY:
        raise ValueError(f"unknown category {category!r}")
    case = _get_case(work, case_id)
    previous = case.category
    case.category = category
    case.updated_at = work.now
    # The limit is the new category's, still counted from when the resident reported it.
    case.resolve_due_at = resolve_deadline(settings, category, case.priority, as_utc(case.created_at))
    case.explanation = [
        *case.explanation,
        {**because("category", Reason.RECATEGORISED_BY, actor=actor, previous=previous), "category": category},
    ]
    record_event(work, case_id, "recategorised", actor, {"from": previous, "to": category})
    if case.status in (CaseStatus.NEW, CaseStatus.PAGED, CaseStatus.ESCALATED, CaseStatus.TRIAGE):
        restart_escalation(work, case, f"re-categorised to {category}")
    _audit(work, actor, "case.recategorise", case_id, {"from": previous, "to": category})
    publish_case(work, case)
    return case


async def reassign(services: Services, case_id: int, to_staff_id: int, actor: str) -> ActionResult:
    return await in_transaction(services, reassign_by_supervisor, services, case_id, to_staff_id, actor)


def reassign_by_supervisor(work: Work, services: Services, case_id: int, to_staff_id: int, actor: str) -> ActionResult:
    """转交 from the console: only to the people its drop-down offers (``routing.duty``) — a crafted
    form naming anyone else is refused (``cannot_take``) before anything changes or is audited."""
    case = _get_case(work, case_id)
    target = work.session.get(Staff, to_staff_id)
    if target is None:
        raise ValueError("unknown staff member")
    if case.status == CaseStatus.CLOSED:
        raise ValueError("the case is closed")
    console_actor = Staff(code=actor, name=actor, role="supervisor", lang=DEFAULT_LANGUAGE)
    if not may_take(services, work, case, target, console_actor):
        text = said("action.cannot_take", DEFAULT_LANGUAGE, ref=case.ref, name=target.name)
        return ActionResult(False, "cannot_take", text, case.ref)
    result = reassign_case(work, case, console_actor, target, actor)
    if result.ok:
        _audit(work, actor, "case.reassign", case_id, {"to": target.code})
    return result


async def merge(services: Services, case_id: int, into_case_id: int, actor: str) -> Case:
    """Close ``case_id`` as a duplicate of ``into_case_id``; its reports count on the surviving case."""
    return await in_transaction(services, merge_cases, case_id, into_case_id, actor)


def merge_cases(work: Work, case_id: int, into_case_id: int, actor: str) -> Case:
    if case_id == into_case_id:
        raise ValueError("a case cannot be merged into itself")
    case = _get_case(work, case_id)
    into = _get_case(work, into_case_id)
    if into.status == CaseStatus.CLOSED:
        raise ValueError("cannot merge into a closed case")
    case.duplicate_of_id = into.id
    into.report_count += case.report_count
    _close(work, case, actor, f"merged into {into.ref}")
    record_event(work, into_case_id, "merged_in", actor, {"from": case.ref})
    tell_reporters(work, case, "case.merged", into=into.ref)
    _audit(work, actor, "case.merge", case_id, {"into": into.ref})
    publish_case(work, into)
    return into


async def add_note(services: Services, case_id: int, text: str, actor: str) -> CaseEvent:
    return await in_transaction(services, note_case, case_id, text, actor)


def note_case(work: Work, case_id: int, text: str, actor: str) -> CaseEvent:
    _get_case(work, case_id)
    event = record_event(work, case_id, "note", actor, {"text": text[:4000]})
    _audit(work, actor, "case.note", case_id)
    return event


async def close_case(services: Services, case_id: int, actor: str, reason: str = "") -> Case:
    return await in_transaction(services, close_by_supervisor, case_id, actor, reason)


def close_by_supervisor(work: Work, case_id: int, actor: str, reason: str) -> Case:
    case = _get_case(work, case_id)
    _close(work, case, actor, reason)
    _audit(work, actor, "case.close", case_id, {"reason": reason})
    return case


def _close(work: Work, case: Case, actor: str, reason: str) -> None:
    if case.status == CaseStatus.CLOSED:
        raise ValueError("the case is already closed")
    transition(work, case, CaseStatus.CLOSED, kind="closed", actor=actor, data={"reason": reason})
    cancel_pending_steps(work, case.id or 0, "closed")
    expire_other_pages(work, case, None, "page.note_closed", name=actor)
    from gridline.routing.transfers import cancel_open  # the loop builds on these actions

    cancel_open(work, case, actor, "closed")
    publish_case(work, case)


def _get_case(work: Work, case_id: int) -> Case:
    case = cases.get(work.session, case_id)
    if case is None:
        raise LookupError(f"no case {case_id}")
    return case


def _audit(work: Work, actor: str, action: str, case_id: int, detail: dict[str, object] | None = None) -> None:
    audit.record(
        work.session, at=work.now, actor=actor, action=action, target_kind="case", target_id=case_id, detail=detail
    )
