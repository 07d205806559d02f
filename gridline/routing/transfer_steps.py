"""The steps of the department loop (条块融合), each in the caller's unit of work: a grid requests a
transfer (转办), the department accepts (签收), replies (回单) or returns it (退单), the grid reviews
the reply (审核)."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlmodel import Session

from gridline.domain.explanations import Reason
from gridline.domain.explanations import why as because_of
from gridline.domain.lifecycle import (
    CASE,
    OPEN_CASE_STATUSES,
    OPEN_PAGE_STATUSES,
    PAGE,
    UNACKNOWLEDGED_STATUSES,
    CaseStatus,
    PageStatus,
)
from gridline.domain.transfers import (
    REJECTED,
    RETURNED,
    TO_DEPARTMENT,
    TO_REVIEW,
    TransferStatus,
)
from gridline.i18n import DEFAULT_LANGUAGE
from gridline.i18n.phrases import Phrase
from gridline.kernel.notify import said
from gridline.kernel.outbox import tell_reporters
from gridline.kernel.work import Work
from gridline.routing.action_result import ActionResult
from gridline.routing.deadlines import deadline_after, limit_for
from gridline.routing.directory import Directory
from gridline.routing.escalation import cancel_pending_steps, restart_escalation
from gridline.routing.pages import acting_page, expire_other_pages
from gridline.routing.resolving import mark_resolved
from gridline.routing.timeline import publish_case, record_event
from gridline.routing.transfer_parties import (
    Actor,
    departments_for,
    grid_side,
    is_department,
    local_time,
    may_review,
    of_department,
    open_transfer,
    page_people,
    reason_code,
    refuse,
    return_reason_phrase,
    return_reasons_text,
    transfer_status_phrase,
)
from gridline.routing.transfer_states import allowed, transition
from gridline.routing.who_may_act import may_act
from gridline.storage import acknowledgements, audit, cases
from gridline.storage import evidence as evidence_rows
from gridline.storage import transfers as store
from gridline.storage.models import Case, Staff, Transfer

if TYPE_CHECKING:
    from gridline.kernel.services import Services


def request(
    work: Work, services: Services, case_id: int, actor: Actor, *, department: str | None = None, note: str = "",
    channel: str = "console",
) -> ActionResult:
    """转办: hand the case to ``department`` (default: the first one for its category)."""
    session, settings, lang = work.session, services.settings, actor.lang
    case = cases.get(session, case_id)
    if case is None:
        return refuse("unknown_case", lang)
    staff = actor.staff(session)
    if not actor.console and (staff is None or is_department(staff) or not may_act(services, work, case, staff)):
        return refuse("not_allowed", lang, case)
    if case.status not in OPEN_CASE_STATUSES:
        return refuse("case_closed", lang, case)
    current = open_transfer(session, case)
    if current is not None:
        return refuse("already_transferred", lang, case, department=current.department,
                       status=transfer_status_phrase(current.status))  # fmt: skip
    index = Directory.for_services(services).grid_index(session)
    choices = departments_for(session, settings, index, case, work.now)
    if not choices:
        return refuse("no_department", lang, case, category=Phrase(f"category.{case.category}"))
    named = next((name for name in choices if note.strip().startswith(name)), None)
    if not (department or "").strip() and named is not None:
        # "转办12 郑州自来水中原营业所 主管破裂": the department first, then the note.
        department, note = named, note.strip()[len(named):]
    chosen = (department or "").strip() or choices[0]
    if chosen not in choices:
        return refuse("unknown_department", lang, case, department=chosen, choices=list(choices))
    transfer = store.add(session, Transfer(
        case_id=case.id or 0, department=chosen, category=case.category, status=TransferStatus.REQUESTED.value,
        note=note.strip()[:2000], requested_by=actor.label, requested_by_staff_id=staff.id if staff else None,
        from_grid_code=case.grid_code, requested_at=work.now,
        accept_due_at=work.now + timedelta(hours=settings.deadlines.transfer_accept_hours), updated_at=work.now,
    ))  # fmt: skip
    # The department's timer replaces the grid's escalation; the grid's open pages are done.
    cancel_pending_steps(work, case.id or 0, f"transferred to {chosen}")
    expire_other_pages(work, case, None, "page.note_transferred", name=chosen)
    first = _first_reachable(session, store.department_staff(session, chosen))
    first_contact = because_of(Reason.TRANSFER_FIRST_CONTACT, department=chosen)
    paged = page_people(work, case, first, TO_DEPARTMENT, first_contact) if first else []
    timer = store.add_timer(session, transfer_id=transfer.id or 0, kind="accept", due_at=transfer.accept_due_at)
    work.job("run_transfer_timer", f"transfer-timer:{timer.id}", timer.due_at, timer_id=timer.id)
    # The request itself is the first step of the machine: recorded like every other.
    details = {"transfer_id": transfer.id, "department": chosen, "note": transfer.note, "paged": paged,
               "channel": channel, "accept_due": transfer.accept_due_at.isoformat()}  # fmt: skip
    record_event(work, case.id, "transfer_requested", actor.label, details)
    audit.record(session, at=work.now, actor=actor.label, action="transfer.requested", target_kind="case",
                 target_id=case.id or 0, detail=details)  # fmt: skip
    case.updated_at = work.now
    tell_reporters(work, case, "transfer.resident.transferred", department=chosen)
    publish_case(work, case)
    return ActionResult(True, "transferred", said("transfer.done.transferred", lang, ref=case.ref, department=chosen),
                        case.ref)  # fmt: skip


def _first_reachable(session: Session, people: list[Staff]) -> list[Staff]:
    from gridline.routing.pages import next_contact_method

    for person in people:
        if next_contact_method(session, person) is not None:
            return [person]
    return people[:1]


class _Target(NamedTuple):
    case: Case
    staff: Staff
    transfer: Transfer


def _department_target(work: Work, case_id: int, staff_id: int) -> _Target | ActionResult:
    """The case, the acting member and the case's open transfer, if they are of its department; else the refusal."""
    case = cases.get(work.session, case_id)
    staff = work.session.get(Staff, staff_id)
    lang = staff.lang if staff else DEFAULT_LANGUAGE
    if staff is None:
        return refuse("not_allowed", lang)
    if case is None:
        return refuse("unknown_case", lang)
    transfer = open_transfer(work.session, case)
    if transfer is None:
        return refuse("no_transfer", lang, case)
    if not of_department(staff, transfer):
        return refuse("not_your_transfer", lang, case, department=transfer.department)
    return _Target(case, staff, transfer)


def accept(work: Work, services: Services, case_id: int, staff_id: int, *, channel: str,
           page_id: int | None = None) -> ActionResult:  # fmt: skip
    """签收: the department has it; its deadline starts now."""
    found = _department_target(work, case_id, staff_id)
    if isinstance(found, ActionResult):
        return found
    case, staff, transfer = found
    session = work.session
    lang = staff.lang
    if not allowed(transfer.status, TransferStatus.ACCEPTED):
        holder = session.get(Staff, transfer.accepted_by) if transfer.accepted_by else None
        if holder is not None:
            return refuse("already_accepted", lang, case, name=holder.name)
        return refuse("state", lang, case, status=transfer_status_phrase(transfer.status))
    transfer.accepted_by = staff.id
    transfer.due_at = deadline_after(services.settings, limit_for(services.settings, case.category, case.priority),
                                     work.now)  # fmt: skip
    transition(work, transfer, TransferStatus.ACCEPTED, f"staff:{staff.code}",
               {"name": staff.name, "channel": channel, "due": transfer.due_at.isoformat()})  # fmt: skip
    store.cancel_timers(session, transfer.id or 0, now=work.now, outcome=f"accepted by {staff.code}")
    page = acting_page(session, case, staff, page_id)
    if page is not None and page.status in OPEN_PAGE_STATUSES:
        PAGE.move(page, PageStatus.ACKNOWLEDGED, work.now)
        work.job("update_page", f"pageupd:{page.id}:accepted", page_id=page.id, note_key="page.note_you_accepted",
                 params={})  # fmt: skip
    expire_other_pages(work, case, page.id if page else None, "page.note_accepted_by", name=staff.name)
    if case.status in UNACKNOWLEDGED_STATUSES:
        # Nobody in the grid had it: the department's acceptance is the case's acknowledgement.
        CASE.move(case, CaseStatus.ACKNOWLEDGED, work.now)  # the transfer's own event says why
        case.acknowledged_by = staff.id
        acknowledgements.add(session, case_id=case.id or 0, page_id=page.id if page else None,
                             staff_id=staff.id or 0, channel=channel, at=work.now)  # fmt: skip
    case.assignee_staff_id = staff.id
    case.updated_at = work.now
    tell_reporters(work, case, "transfer.resident.accepted", department=transfer.department)
    publish_case(work, case)
    due = local_time(services.settings, transfer.due_at)
    text = said("transfer.done.accepted", lang, ref=case.ref, due=due)
    return ActionResult(True, "accepted", text, case.ref, staff.name)


def reply(work: Work, services: Services, case_id: int, staff_id: int, text: str, *, channel: str,
          evidence_ids: tuple[int, ...] | list[int] = ()) -> ActionResult:  # fmt: skip
    """回单: the department's result (and evidence ids from the evidence store); the grid reviews it."""
    found = _department_target(work, case_id, staff_id)
    if isinstance(found, ActionResult):
        return found
    case, staff, transfer = found
    session = work.session
    lang = staff.lang
    if transfer.status in (TransferStatus.REQUESTED, TransferStatus.ESCALATED):
        return refuse("not_accepted", lang, case)
    if not allowed(transfer.status, TransferStatus.REPLIED):
        return refuse("state", lang, case, status=transfer_status_phrase(transfer.status))
    words = text.strip()
    if not words:
        return refuse("empty_reply", lang, case)
    transfer.replied_by = staff.id
    transfer.reply_text = words[:4000]
    transfer.evidence_ids = _evidence(session, case, staff, transfer, evidence_ids)
    transition(work, transfer, TransferStatus.REPLIED, f"staff:{staff.code}",
               {"name": staff.name, "channel": channel, "text": words[:500], "evidence_ids": transfer.evidence_ids})
    reviewers = grid_side(work, services, case, transfer)
    paged = page_people(work, case, reviewers, TO_REVIEW, because_of(Reason.TRANSFER_REVIEW))
    record_event(work, case.id, "transfer_review_paged", "system", {"transfer_id": transfer.id, "paged": paged})
    case.updated_at = work.now
    publish_case(work, case)
    return ActionResult(True, "replied", said("transfer.done.replied", lang, ref=case.ref), case.ref, staff.name)


def _evidence(session: Session, case: Case, staff: Staff, transfer: Transfer, given: Any) -> list[int]:
    """The photos a reply cites: those given that are on this case, else the ones this person attached
    to the case since accepting it (a Telegram photo with the case's #ref, an upload)."""
    if given:
        return [e.id for e in evidence_rows.on_case(session, case.id or 0, [int(i) for i in given]) if e.id]
    since = transfer.accepted_at or transfer.requested_at
    return [e.id for e in evidence_rows.for_case(session, case.id or 0)
            if e.id and e.staff_id == staff.id and e.created_at >= since]  # fmt: skip


def cancel_open(work: Work, case: Case, actor: str, why: str) -> None:
    """The case was resolved or closed another way: its open transfer (if any) ends, timers too."""
    transfer = open_transfer(work.session, case)
    if transfer is None or not allowed(transfer.status, TransferStatus.CANCELLED):
        return
    store.cancel_timers(work.session, transfer.id or 0, now=work.now, outcome=why)
    transition(work, transfer, TransferStatus.CANCELLED, actor, {"why": why})


def return_(work: Work, services: Services, case_id: int, staff_id: int, reason: str | int | None, *,
            note: str = "", channel: str) -> ActionResult:  # fmt: skip
    """退单: back to the grid that sent it, with a reason from the configured list."""
    found = _department_target(work, case_id, staff_id)
    if isinstance(found, ActionResult):
        return found
    case, staff, transfer = found
    session, settings = work.session, services.settings
    lang = staff.lang
    code = reason_code(settings, reason)
    if code is None:
        return refuse("bad_reason", lang, case, reasons=return_reasons_text(settings))
    if not allowed(transfer.status, TransferStatus.RETURNED):
        return refuse("state", lang, case, status=transfer_status_phrase(transfer.status))
    transfer.returned_by, transfer.return_reason, transfer.return_note = staff.id, code, note.strip()[:2000] or None
    transition(work, transfer, TransferStatus.RETURNED, f"staff:{staff.code}",
               {"name": staff.name, "channel": channel, "reason": code, "note": transfer.return_note or ""})
    store.cancel_timers(session, transfer.id or 0, now=work.now, outcome="returned")
    expire_other_pages(work, case, None, "page.note_returned_by", name=staff.name)
    back_to = grid_side(work, services, case, transfer)
    holder = session.get(Staff, case.acknowledged_by) if case.acknowledged_by else None
    if holder is not None and not is_department(holder):
        case.assignee_staff_id = holder.id  # the leader who had it has it again
    elif case.status == CaseStatus.ACKNOWLEDGED:
        # The department had acknowledged it: the case is the grid's again, unacknowledged.
        CASE.move(case, CaseStatus.PAGED, work.now)  # the transfer's own event says why
        case.acknowledged_by = case.assignee_staff_id = None
    if case.status in UNACKNOWLEDGED_STATUSES:
        # If the grid does not take it up, its policy carries on after the first step.
        policy_steps = case.policy.get("steps", [])
        wait = float(policy_steps[0].get("wait_minutes", 5)) if policy_steps else 5.0
        restart_escalation(work, case, "returned by the department", from_step=1, delay_minutes=wait)
    why = because_of(Reason.TRANSFER_RETURNED, department=transfer.department)
    paged = page_people(work, case, back_to, RETURNED, why)
    record_event(work, case.id, "transfer_return_paged", "system", {"transfer_id": transfer.id, "paged": paged})
    case.updated_at = work.now
    publish_case(work, case)
    label = return_reason_phrase(code)
    return ActionResult(True, "returned", said("transfer.done.returned", lang, ref=case.ref, reason=label), case.ref)


def review(work: Work, services: Services, case_id: int, actor: Actor, *, approve: bool, note: str = "",
           channel: str = "console") -> ActionResult:  # fmt: skip
    """审核: approve the department's reply (the case is resolved, the resident asked) or reject it."""
    session, lang = work.session, actor.lang
    case = cases.get(session, case_id)
    if case is None:
        return refuse("unknown_case", lang)
    if not may_review(work, services, case, actor):
        return refuse("not_allowed", lang, case)
    transfer = open_transfer(session, case)
    if transfer is None or transfer.status != TransferStatus.REPLIED:
        # A repeated 通过12 finds the transfer closed: name where it ended (审核通过, 已退单 …).
        last = transfer or store.latest_in(session, case.id or 0, [s.value for s in TransferStatus])
        if last is None:
            return refuse("no_transfer", lang, case)
        return refuse("nothing_to_review", lang, case, status=transfer_status_phrase(last.status))
    wanted = TransferStatus.APPROVED if approve else TransferStatus.REJECTED
    transfer.reviewed_by, transfer.review_note = actor.label, note.strip()[:2000] or None
    transition(work, transfer, wanted, actor.label, {"note": transfer.review_note or "", "channel": channel})
    replier = session.get(Staff, transfer.replied_by) if transfer.replied_by else None
    if approve:
        assert replier is not None
        # Resolved by the department: its reply is the holder's word, the resident is asked.
        asked = mark_resolved(work, case, replier, channel, f"staff:{replier.code}")
        key = "transfer.done.approved" if asked else "transfer.done.approved_quiet"
        done = ActionResult(True, "approved", said(key, lang, ref=case.ref), case.ref, nobody_told=not asked)
    else:
        paged = page_people(work, case, [replier] if replier else [], REJECTED, because_of(Reason.TRANSFER_REJECTED))
        record_event(work, case.id, "transfer_rework_paged", "system", {"transfer_id": transfer.id, "paged": paged})
        done = ActionResult(True, "rejected", said("transfer.done.rejected", lang, ref=case.ref), case.ref)
    case.updated_at = work.now
    publish_case(work, case)
    return done
