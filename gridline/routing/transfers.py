"""The department loop (条块融合): a grid hands a case to a functional department and reviews its answer.

A leader (Telegram, SMS) or a supervisor (console) **transfers** (转办) a case to a department chosen
from its category, with a note. The department's staff **accept** it (签收) — the department's own
deadline starts there — and a transfer nobody accepts within ``deadlines.transfer_accept_hours``
escalates (a ``transfer_timers`` row): the department's other staff and the supervisors are paged.
The department then **replies** (回单) with the result (and evidence ids), or **returns** it (退单)
with a reason from ``departments.return_reasons`` — back to the grid that sent it, whose leader is
paged with the reason. The grid **reviews** (审核) a reply: approved → the case is resolved by the
department and the resident is asked "解决了吗？" (``routing.closure``); rejected → back to the
department with a note.

A transfer is a state machine (:class:`TransferStatus`, :data:`TRANSFER_TRANSITIONS`) and only
:func:`transition` writes its status: it checks the table, stamps the time, records a typed case
event (``transfer_<status>``) and the audit entry. Refusals are answers, not errors.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlmodel import Session

from gridline.domain.explanations import Reason
from gridline.domain.explanations import why as because_of
from gridline.domain.lifecycle import (
    CASE,
    OPEN_CASE_STATUSES,
    OPEN_PAGE_STATUSES,
    PAGE,
    STEP,
    UNACKNOWLEDGED_STATUSES,
    CaseStatus,
    ForbiddenTransition,
    PageStatus,
    StaffRole,
    StepStatus,
)
from gridline.domain.transfers import (
    OPEN_TRANSFER_STATUSES,
    REJECTED,
    RETURNED,
    TO_DEPARTMENT,
    TO_REVIEW,
    TRANSFER_ESCALATED,
    TRANSFER_PAGES,
    TRANSFER_TRANSITIONS,
    TransferStatus,
)
from gridline.i18n import DEFAULT_LANGUAGE, has, t
from gridline.kernel.notify import said
from gridline.kernel.outbox import tell_resident
from gridline.kernel.work import Work, in_transaction
from gridline.routing.actions import ActionResult, expire_other_pages, mark_resolved, may_act
from gridline.routing.deadlines import deadline_after, limit_for
from gridline.routing.directory import Directory
from gridline.routing.escalation import cancel_pending_steps, page_targets, restart_escalation
from gridline.routing.targets import Target, resolve_targets
from gridline.routing.timeline import publish_case, record_event
from gridline.settings import Settings
from gridline.storage import audit, cases, directory, pages, steps
from gridline.storage import evidence as evidence_rows
from gridline.storage import transfers as store
from gridline.storage.models import Case, Page, Staff, Transfer

if TYPE_CHECKING:
    from gridline.kernel.services import Services

WORKER_ID = f"{socket.gethostname()}:{os.getpid()}"


# When each status is reached, stamped by transition().
_STAMPS = {
    TransferStatus.ACCEPTED: "accepted_at",
    TransferStatus.ESCALATED: "escalated_at",
    TransferStatus.REPLIED: "replied_at",
    TransferStatus.APPROVED: "reviewed_at",
    TransferStatus.REJECTED: "reviewed_at",
    TransferStatus.RETURNED: "returned_at",
}

ESCALATED = TRANSFER_ESCALATED
PAGE_REASONS = TRANSFER_PAGES


def allowed(current: str, wanted: str) -> bool:
    return TransferStatus(wanted) in TRANSFER_TRANSITIONS[TransferStatus(current)]


def transition(
    work: Work, transfer: Transfer, wanted: TransferStatus, actor: str, data: dict[str, Any] | None = None
) -> None:
    """Move ``transfer`` to ``wanted``: check the table, stamp the time, record the case event and audit."""
    current = TransferStatus(transfer.status)
    if wanted not in TRANSFER_TRANSITIONS[current]:
        raise ForbiddenTransition("transfer", current, wanted)
    transfer.status = wanted.value
    stamp = _STAMPS.get(wanted)
    if stamp is not None:
        setattr(transfer, stamp, work.now)
    transfer.updated_at = work.now
    details = {"transfer_id": transfer.id, "department": transfer.department, "from": current.value, **(data or {})}
    record_event(work, transfer.case_id, f"transfer_{wanted.value}", actor, details)
    audit.record(
        work.session, at=work.now, actor=actor, action=f"transfer.{wanted.value}", target_kind="case",
        target_id=transfer.case_id, detail=details,
    )  # fmt: skip


# -- who and which department ---------------------------------------------------------------------


@dataclass(frozen=True)
class Actor:
    """Who acts: a staff member on a channel, or a console user (``console:<name>``)."""

    label: str
    lang: str
    staff_id: int | None = None
    console: bool = False  # a console supervisor or admin (the console checked role and scope)

    @classmethod
    def of_staff(cls, staff: Staff) -> Actor:
        return cls(f"staff:{staff.code}", staff.lang, staff.id)

    def staff(self, session: Session) -> Staff | None:
        """The staff member acting from a channel (None for a console user)."""
        return session.get(Staff, self.staff_id) if self.staff_id is not None and not self.console else None


def departments_for(session: Session, settings: Settings, index: Any, case: Case, at: datetime) -> list[str]:
    """The departments a case of this category can go to: the configured one first, then those whose
    staff handle the category (attached to the case's grid chain first, then district-wide)."""
    names: list[str] = []
    preferred = settings.departments.by_category.get(case.category)
    if preferred and store.department_staff(session, preferred):
        names.append(preferred)
    for target in resolve_targets(session, index, case, "department", at, settings.timezone):
        name = target.staff.department
        if name and name not in names:
            names.append(name)
    return names


def return_reason_label(code: str, lang: str) -> str:
    key = f"transfer.return_reason.{code}"
    return t(key, lang) if has(key) else code


def return_reasons_text(settings: Settings, lang: str) -> str:
    """``1 非本部门职责 2 …``: the numbered list staff choose from."""
    return " ".join(
        f"{n} {return_reason_label(code, lang)}" for n, code in enumerate(settings.departments.return_reasons, 1)
    )


def reason_code(settings: Settings, given: str | int | None) -> str | None:
    """A return reason from its number (1-based) or its code; None when it is not in the list."""
    reasons = settings.departments.return_reasons
    if given is None or given == "":
        return None
    text = str(given).strip()
    if text.isdigit():
        n = int(text)
        return reasons[n - 1] if 1 <= n <= len(reasons) else None
    return text if text in reasons else None


def _refuse(code: str, lang: str, case: Case | None = None, **params: Any) -> ActionResult:
    ref = case.ref if case else ""
    return ActionResult(False, code, said(f"transfer.refused.{code}", lang, ref=ref, **params), ref)


def _status_label(status: str, lang: str) -> str:
    return t(f"transfer.status.{status}", lang)


def _open_transfer(session: Session, case: Case) -> Transfer | None:
    return store.latest_in(session, case.id or 0, [s.value for s in OPEN_TRANSFER_STATUSES])


def _round(work: Work, case: Case) -> int:
    return steps.last_round(work.session, case.id or 0)


def _page(work: Work, case: Case, people: list[Staff], reason: str, why: dict[str, Any]) -> list[str]:
    targets = [Target(person, reason, why) for person in people if person.active]
    done = page_targets(work, case, targets, step_index=0, round_=_round(work, case))
    return [str(entry["name"]) for entry in done if entry.get("page_id")]


def _is_department(staff: Staff | None) -> bool:
    return staff is not None and staff.role == StaffRole.DEPARTMENT.value


def _of_department(staff: Staff, transfer: Transfer) -> bool:
    return _is_department(staff) and staff.active and staff.department == transfer.department


def _grid_side(work: Work, services: Services, case: Case, transfer: Transfer) -> list[Staff]:
    """Who speaks for the grid that sent it: the staff member who transferred it, else the grid's
    leaders, else the supervisors on duty."""
    sender = work.session.get(Staff, transfer.requested_by_staff_id) if transfer.requested_by_staff_id else None
    if sender is not None and sender.active:
        return [sender]
    if case.grid_code:
        leaders = directory.active_staff_with_role(work.session, StaffRole.LEADER.value, case.grid_code)
        if leaders:
            return leaders
    index = Directory.for_services(services).grid_index(work.session)
    tz = services.settings.timezone
    return [x.staff for x in resolve_targets(work.session, index, case, "supervisors", work.now, tz)]


def _may_review(work: Work, services: Services, case: Case, actor: Actor) -> bool:
    if actor.console:
        return True
    staff = actor.staff(work.session)
    return staff is not None and not _is_department(staff) and may_act(services, work, case, staff)


# -- the steps ------------------------------------------------------------------------------------


def request(
    work: Work, services: Services, case_id: int, actor: Actor, *, department: str | None = None, note: str = "",
    channel: str = "console",
) -> ActionResult:
    """转办: hand the case to ``department`` (default: the first one for its category)."""
    session, settings, lang = work.session, services.settings, actor.lang
    case = cases.get(session, case_id)
    if case is None:
        return _refuse("unknown_case", lang)
    staff = actor.staff(session)
    if not actor.console and (staff is None or _is_department(staff) or not may_act(services, work, case, staff)):
        return _refuse("not_allowed", lang, case)
    if case.status not in OPEN_CASE_STATUSES:
        return _refuse("case_closed", lang, case)
    current = _open_transfer(session, case)
    if current is not None:
        return _refuse("already_transferred", lang, case, department=current.department,
                       status=_status_label(current.status, lang))  # fmt: skip
    index = Directory.for_services(services).grid_index(session)
    choices = departments_for(session, settings, index, case, work.now)
    if not choices:
        return _refuse("no_department", lang, case, category=t(f"category.{case.category}", lang))
    named = next((name for name in choices if note.strip().startswith(name)), None)
    if not (department or "").strip() and named is not None:
        # "转办12 郑州自来水中原营业所 主管破裂": the department first, then the note.
        department, note = named, note.strip()[len(named):]
    chosen = (department or "").strip() or choices[0]
    if chosen not in choices:
        return _refuse("unknown_department", lang, case, department=chosen, choices=list(choices))
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
    paged = _page(work, case, first, TO_DEPARTMENT, first_contact) if first else []
    timer = store.add_timer(session, transfer_id=transfer.id or 0, kind="accept", due_at=transfer.accept_due_at)
    work.job("run_transfer_timer", f"transfer-timer:{timer.id}", timer.due_at, timer_id=timer.id)
    # The request itself is the first step of the machine: recorded like every other.
    details = {"transfer_id": transfer.id, "department": chosen, "note": transfer.note, "paged": paged,
               "channel": channel, "accept_due": transfer.accept_due_at.isoformat()}  # fmt: skip
    record_event(work, case.id, "transfer_requested", actor.label, details)
    audit.record(session, at=work.now, actor=actor.label, action="transfer.requested", target_kind="case",
                 target_id=case.id or 0, detail=details)  # fmt: skip
    case.updated_at = work.now
    tell_resident(work, case, "transfer.resident.transferred", department=chosen)
    publish_case(work, case)
    return ActionResult(True, "transferred", said("transfer.done.transferred", lang, ref=case.ref, department=chosen),
                        case.ref)  # fmt: skip


def _first_reachable(session: Session, people: list[Staff]) -> list[Staff]:
    from gridline.routing.pages import next_contact_method

    for person in people:
        if next_contact_method(session, person) is not None:
            return [person]
    return people[:1]


def _department_target(
    work: Work, case: Case | None, staff: Staff | None
) -> tuple[Transfer | None, ActionResult | None]:
    """The case's open transfer, if ``staff`` is of its department; else the refusal."""
    lang = staff.lang if staff else DEFAULT_LANGUAGE
    if staff is None:
        return None, _refuse("not_allowed", lang)
    if case is None:
        return None, _refuse("unknown_case", lang)
    transfer = _open_transfer(work.session, case)
    if transfer is None:
        return None, _refuse("no_transfer", lang, case)
    if not _of_department(staff, transfer):
        return None, _refuse("not_your_transfer", lang, case, department=transfer.department)
    return transfer, None


def accept(work: Work, services: Services, case_id: int, staff_id: int, *, channel: str,
           page_id: int | None = None) -> ActionResult:  # fmt: skip
    """签收: the department has it; its deadline starts now."""
    session = work.session
    case = cases.get(session, case_id)
    staff = session.get(Staff, staff_id)
    transfer, refusal = _department_target(work, case, staff)
    if refusal is not None:
        return refusal
    assert transfer is not None and case is not None and staff is not None
    lang = staff.lang
    if not allowed(transfer.status, TransferStatus.ACCEPTED):
        holder = session.get(Staff, transfer.accepted_by) if transfer.accepted_by else None
        if holder is not None:
            return _refuse("already_accepted", lang, case, name=holder.name)
        return _refuse("state", lang, case, status=_status_label(transfer.status, lang))
    transfer.accepted_by = staff.id
    transfer.due_at = deadline_after(services.settings, limit_for(services.settings, case.category, case.priority),
                                     work.now)  # fmt: skip
    transition(work, transfer, TransferStatus.ACCEPTED, f"staff:{staff.code}",
               {"name": staff.name, "channel": channel, "due": transfer.due_at.isoformat()})  # fmt: skip
    store.cancel_timers(session, transfer.id or 0, now=work.now, outcome=f"accepted by {staff.code}")
    page = _own_page(session, case, staff, page_id)
    if page is not None and page.status in OPEN_PAGE_STATUSES:
        PAGE.move(page, PageStatus.ACKNOWLEDGED, work.now)
        work.job("update_page", f"pageupd:{page.id}:accepted", page_id=page.id, note_key="page.note_you_accepted",
                 params={})  # fmt: skip
    expire_other_pages(work, case, page.id if page else None, "page.note_accepted_by", name=staff.name)
    if case.status in UNACKNOWLEDGED_STATUSES:
        # Nobody in the grid had it: the department's acceptance is the case's acknowledgement.
        CASE.move(case, CaseStatus.ACKNOWLEDGED, work.now)  # the transfer's own event says why
        case.acknowledged_by = staff.id
        cases.add_acknowledgement(session, case_id=case.id or 0, page_id=page.id if page else None,
                                  staff_id=staff.id or 0, channel=channel, at=work.now)  # fmt: skip
    case.assignee_staff_id = staff.id
    case.updated_at = work.now
    tell_resident(work, case, "transfer.resident.accepted", department=transfer.department)
    publish_case(work, case)
    due = _local(services.settings, transfer.due_at)
    text = said("transfer.done.accepted", lang, ref=case.ref, due=due)
    return ActionResult(True, "accepted", text, case.ref, staff.name)


def _own_page(session: Session, case: Case, staff: Staff, page_id: int | None) -> Page | None:
    if page_id is not None:
        page = pages.get(session, page_id)
        return page if page is not None and page.case_id == case.id and page.staff_id == staff.id else None
    return pages.latest_for_staff(session, case.id or 0, staff.id or 0)


def reply(work: Work, services: Services, case_id: int, staff_id: int, text: str, *, channel: str,
          evidence_ids: tuple[int, ...] | list[int] = ()) -> ActionResult:  # fmt: skip
    """回单: the department's result (and evidence ids from the evidence store); the grid reviews it."""
    session = work.session
    case = cases.get(session, case_id)
    staff = session.get(Staff, staff_id)
    transfer, refusal = _department_target(work, case, staff)
    if refusal is not None:
        return refusal
    assert transfer is not None and case is not None and staff is not None
    lang = staff.lang
    if transfer.status in (TransferStatus.REQUESTED, TransferStatus.ESCALATED):
        return _refuse("not_accepted", lang, case)
    if not allowed(transfer.status, TransferStatus.REPLIED):
        return _refuse("state", lang, case, status=_status_label(transfer.status, lang))
    words = text.strip()
    if not words:
        return _refuse("empty_reply", lang, case)
    transfer.replied_by = staff.id
    transfer.reply_text = words[:4000]
    transfer.evidence_ids = _evidence(session, case, staff, transfer, evidence_ids)
    transition(work, transfer, TransferStatus.REPLIED, f"staff:{staff.code}",
               {"name": staff.name, "channel": channel, "text": words[:500], "evidence_ids": transfer.evidence_ids})
    paged = _page(work, case, _grid_side(work, services, case, transfer), TO_REVIEW, because_of(Reason.TRANSFER_REVIEW))
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
    transfer = _open_transfer(work.session, case)
    if transfer is None or not allowed(transfer.status, TransferStatus.CANCELLED):
        return
    store.cancel_timers(work.session, transfer.id or 0, now=work.now, outcome=why)
    transition(work, transfer, TransferStatus.CANCELLED, actor, {"why": why})


def return_(work: Work, services: Services, case_id: int, staff_id: int, reason: str | int | None, *,
            note: str = "", channel: str) -> ActionResult:  # fmt: skip
    """退单: back to the grid that sent it, with a reason from the configured list."""
    session, settings = work.session, services.settings
    case = cases.get(session, case_id)
    staff = session.get(Staff, staff_id)
    transfer, refusal = _department_target(work, case, staff)
    if refusal is not None:
        return refusal
    assert transfer is not None and case is not None and staff is not None
    lang = staff.lang
    code = reason_code(settings, reason)
    if code is None:
        return _refuse("bad_reason", lang, case, reasons=return_reasons_text(settings, lang))
    if not allowed(transfer.status, TransferStatus.RETURNED):
        return _refuse("state", lang, case, status=_status_label(transfer.status, lang))
    transfer.returned_by, transfer.return_reason, transfer.return_note = staff.id, code, note.strip()[:2000] or None
    transition(work, transfer, TransferStatus.RETURNED, f"staff:{staff.code}",
               {"name": staff.name, "channel": channel, "reason": code, "note": transfer.return_note or ""})
    store.cancel_timers(session, transfer.id or 0, now=work.now, outcome="returned")
    expire_other_pages(work, case, None, "page.note_returned_by", name=staff.name)
    back_to = _grid_side(work, services, case, transfer)
    holder = session.get(Staff, case.acknowledged_by) if case.acknowledged_by else None
    if holder is not None and not _is_department(holder):
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
    paged = _page(work, case, back_to, RETURNED, because_of(Reason.TRANSFER_RETURNED, department=transfer.department))
    record_event(work, case.id, "transfer_return_paged", "system", {"transfer_id": transfer.id, "paged": paged})
    case.updated_at = work.now
    publish_case(work, case)
    label = return_reason_label(code, lang)
    return ActionResult(True, "returned", said("transfer.done.returned", lang, ref=case.ref, reason=label), case.ref)


def review(work: Work, services: Services, case_id: int, actor: Actor, *, approve: bool, note: str = "",
           channel: str = "console") -> ActionResult:  # fmt: skip
    """审核: approve the department's reply (the case is resolved, the resident asked) or reject it."""
    session, lang = work.session, actor.lang
    case = cases.get(session, case_id)
    if case is None:
        return _refuse("unknown_case", lang)
    if not _may_review(work, services, case, actor):
        return _refuse("not_allowed", lang, case)
    transfer = _open_transfer(session, case)
    if transfer is None or transfer.status != TransferStatus.REPLIED:
        status = _status_label(transfer.status, lang) if transfer else "—"
        return _refuse("nothing_to_review", lang, case, status=status)
    wanted = TransferStatus.APPROVED if approve else TransferStatus.REJECTED
    transfer.reviewed_by, transfer.review_note = actor.label, note.strip()[:2000] or None
    transition(work, transfer, wanted, actor.label, {"note": transfer.review_note or "", "channel": channel})
    replier = session.get(Staff, transfer.replied_by) if transfer.replied_by else None
    if approve:
        assert replier is not None
        # Resolved by the department: its reply is the holder's word, the resident is asked.
        mark_resolved(work, case, replier, channel, f"staff:{replier.code}")
        done = ActionResult(True, "approved", said("transfer.done.approved", lang, ref=case.ref), case.ref)
    else:
        paged = _page(work, case, [replier] if replier else [], REJECTED, because_of(Reason.TRANSFER_REJECTED))
        record_event(work, case.id, "transfer_rework_paged", "system", {"transfer_id": transfer.id, "paged": paged})
        done = ActionResult(True, "rejected", said("transfer.done.rejected", lang, ref=case.ref), case.ref)
    case.updated_at = work.now
    publish_case(work, case)
    return done


# -- the accept timer -----------------------------------------------------------------------------


def run_timer(work: Work, services: Services, timer_id: int) -> str:
    """A transfer nobody accepted in time: page the department's others and the supervisors."""
    session = work.session
    timer = store.claim_timer(session, timer_id, now=work.now, worker=WORKER_ID)
    if timer is None:
        return "not claimed"
    STEP.move(timer, StepStatus.DONE, work.now)
    transfer = store.get(session, timer.transfer_id, fresh=True)
    case = cases.get(session, transfer.case_id, fresh=True) if transfer else None
    if transfer is None or case is None:
        timer.outcome = "gone"
        return timer.outcome
    if case.status not in OPEN_CASE_STATUSES and allowed(transfer.status, TransferStatus.CANCELLED):
        transition(work, transfer, TransferStatus.CANCELLED, "system", {"case_status": case.status})
        timer.outcome = f"case {case.status}"
        return timer.outcome
    if not allowed(transfer.status, TransferStatus.ESCALATED):
        timer.outcome = f"transfer {transfer.status}"
        return timer.outcome
    already = {p.staff_id for p in pages.for_case(session, case.id or 0) if p.reason == TO_DEPARTMENT}
    others = [p for p in store.department_staff(session, transfer.department) if p.id not in already]
    index = Directory.for_services(services).grid_index(session)
    supervisors = [x.staff for x in resolve_targets(session, index, case, "supervisors", work.now,
                                                    services.settings.timezone)]  # fmt: skip
    not_accepted = because_of(Reason.TRANSFER_NOT_ACCEPTED, department=transfer.department)
    paged = _page(work, case, others + supervisors, ESCALATED, not_accepted)
    hours = services.settings.deadlines.transfer_accept_hours
    transition(work, transfer, TransferStatus.ESCALATED, "system", {"paged": paged, "after_hours": hours})
    case.updated_at = work.now
    publish_case(work, case)
    timer.outcome = f"escalated: {len(paged)} paged"
    return timer.outcome


def requeue_due(work: Work, lease_seconds: float, limit: int = 500) -> int:
    """The safety net (the reconciler's once-a-minute sweep): a job for every due accept timer, and
    timers whose worker vanished released after the lease. A claimed timer runs once."""
    store.release_stale_timers(work.session, claimed_before=work.now - timedelta(seconds=lease_seconds))
    ids = store.due_timer_ids(work.session, due_by=work.now, limit=limit)
    for timer_id in ids:
        work.job("run_transfer_timer", f"transfer-timer:{timer_id}", None, timer_id=timer_id)
    return len(ids)


async def run_transfer_timer(services: Services, timer_id: int) -> str:
    return await in_transaction(services, run_timer, services, timer_id)


# -- what pages and pages' readers need -----------------------------------------------------------


def page_params(session: Session, settings: Settings, case: Case, page: Page, lang: str) -> dict[str, str] | None:
    """What a page of the loop fills its texts with (the department, the note, the reason, the reply)."""
    if page.reason not in PAGE_REASONS:
        return None
    transfer = _latest(session, case)
    if transfer is None:
        return None
    return {
        "department": transfer.department,
        "note": transfer.note or "—",
        "reason": return_reason_label(transfer.return_reason or "", lang) if transfer.return_reason else "—",
        "return_note": transfer.return_note or "",
        "reply": (transfer.reply_text or "")[:300],
        "review_note": transfer.review_note or "",
        "accept_due": _local(settings, transfer.accept_due_at),
        "due": _local(settings, transfer.due_at) if transfer.due_at else "—",
        "reasons": return_reasons_text(settings, lang),
    }


def _latest(session: Session, case: Case) -> Transfer | None:
    found = store.for_case(session, case.id or 0)
    return found[-1] if found else None


def _local(settings: Settings, at: datetime | None) -> str:
    from zoneinfo import ZoneInfo

    if at is None:
        return "—"
    return at.astimezone(ZoneInfo(settings.timezone)).strftime("%Y-%m-%d %H:%M")


# -- the async doors, one transaction each --------------------------------------------------------


async def transfer_case(services: Services, case_id: int, actor: Actor, *, department: str | None = None,
                        note: str = "", channel: str = "console") -> ActionResult:  # fmt: skip
    return await in_transaction(services, request, services, case_id, actor, department=department, note=note,
                                channel=channel)  # fmt: skip


async def accept_transfer(services: Services, case_id: int, staff_id: int, *, channel: str,
                          page_id: int | None = None) -> ActionResult:  # fmt: skip
    return await in_transaction(services, accept, services, case_id, staff_id, channel=channel, page_id=page_id)


async def reply_transfer(services: Services, case_id: int, staff_id: int, text: str, *, channel: str,
                         evidence_ids: tuple[int, ...] = ()) -> ActionResult:  # fmt: skip
    return await in_transaction(services, reply, services, case_id, staff_id, text, channel=channel,
                                evidence_ids=evidence_ids)  # fmt: skip


async def return_transfer(services: Services, case_id: int, staff_id: int, reason: str | int | None, *,
                          note: str = "", channel: str) -> ActionResult:  # fmt: skip
    return await in_transaction(services, return_, services, case_id, staff_id, reason, note=note, channel=channel)


async def review_transfer(services: Services, case_id: int, actor: Actor, *, approve: bool, note: str = "",
                          channel: str = "console") -> ActionResult:  # fmt: skip
    return await in_transaction(services, review, services, case_id, actor, approve=approve, note=note,
                                channel=channel)  # fmt: skip


async def staff_actor(services: Services, staff_id: int) -> Actor | None:
    def body(work: Work) -> Actor | None:
        staff = work.session.get(Staff, staff_id)
        return Actor.of_staff(staff) if staff is not None else None

    return await in_transaction(services, body)


# -- what the console's case page shows ----------------------------------------------------------


@dataclass(frozen=True)
class TransferView:
    transfer: Transfer
    status_label: str
    reason_label: str  # the return reason, in the viewer's language ("" if none)
    accepted_by: str  # names ("" if nobody)
    replied_by: str


@dataclass(frozen=True)
class LoopPanel:
    transfers: list[TransferView]
    open: Transfer | None
    choices: list[str]  # departments a new transfer may go to
    can_transfer: bool
    pending_extension: Any  # an Extension waiting for a decision, or None
    extensions: list[Any]


def panel(session: Session, settings: Settings, index: Any, case: Case, now: datetime, lang: str) -> LoopPanel:
    """The department loop and extensions of one case, for its console page."""
    rows = store.for_case(session, case.id or 0)
    names = directory.staff_names(session, {sid for r in rows for sid in (r.accepted_by, r.replied_by) if sid})
    views = [
        TransferView(
            transfer=r,
            status_label=_status_label(r.status, lang),
            reason_label=return_reason_label(r.return_reason, lang) if r.return_reason else "",
            accepted_by=names.get(r.accepted_by or 0, ""),
            replied_by=names.get(r.replied_by or 0, ""),
        )
        for r in rows
    ]
    current = next((r for r in reversed(rows) if r.status in OPEN_TRANSFER_STATUSES), None)
    choices = departments_for(session, settings, index, case, now)
    extensions = store.extensions_of(session, case.id or 0)
    pending = next((e for e in reversed(extensions) if e.status == "requested"), None)
    return LoopPanel(
        transfers=views, open=current, choices=choices,
        can_transfer=current is None and bool(choices) and case.status in OPEN_CASE_STATUSES,
        pending_extension=pending, extensions=extensions,
    )  # fmt: skip
