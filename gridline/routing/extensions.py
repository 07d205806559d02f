"""Extensions (延期): the holder of a case asks for more time, with a reason; the level above decides.

The holder (whoever has the case: the leader who acknowledged it, or the department that accepted
its transfer) asks from Telegram, SMS or the console for ``N`` working days or hours more
(``deadlines.extension_default`` when they do not say, at most ``deadlines.extension_max``). The
level above — the level-2 contact of the grid, else the level-1 contact, else the supervisors —
is paged and approves or refuses it (on a channel or in the console). Approval moves
``Case.resolve_due_at`` (and the department's deadline when a department holds it); 催办/督办
(``routing.chasing``) then follow the new deadline. An extension is a state machine and only
:func:`transition` writes its status, with the case event and the audit entry.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlmodel import Session

from gridline.domain.explanations import Reason, why
from gridline.domain.lifecycle import CaseStatus, ForbiddenTransition
from gridline.domain.transfers import (
    EXTENSION_DECIDED,
    EXTENSION_PAGES,
    EXTENSION_TO_DECIDE,
    EXTENSION_TRANSITIONS,
    OPEN_TRANSFER_STATUSES,
    ExtensionStatus,
    TransferStatus,
)
from gridline.kernel.notify import said
from gridline.kernel.work import Work, in_transaction
from gridline.routing.action_result import ActionResult
from gridline.routing.closure import LEVEL_UP
from gridline.routing.deadlines import Limit, deadline_after
from gridline.routing.directory import Directory
from gridline.routing.escalation import page_targets
from gridline.routing.targets import Target, resolve_targets
from gridline.routing.timeline import publish_case, record_event
from gridline.routing.transfers import Actor
from gridline.routing.transfers import local_time as _local
from gridline.routing.who_may_act import CHAIN_ROLES, may_act
from gridline.settings import Settings
from gridline.storage import audit, case_events, cases, steps
from gridline.storage import transfers as store
from gridline.storage.models import Case, Extension, Page, Staff

if TYPE_CHECKING:
    from gridline.kernel.services import Services


TO_DECIDE = EXTENSION_TO_DECIDE
DECIDED = EXTENSION_DECIDED
PAGE_REASONS = EXTENSION_PAGES


def transition(work: Work, extension: Extension, wanted: ExtensionStatus, actor: str,
               data: dict[str, Any] | None = None) -> None:  # fmt: skip
    """Move ``extension`` to ``wanted``: check the table, stamp the time, record the case event and audit."""
    current = ExtensionStatus(extension.status)
    if wanted not in EXTENSION_TRANSITIONS[current]:
        raise ForbiddenTransition("extension", current, wanted)
    extension.status = wanted.value
    extension.decided_at = work.now
    details = {"extension_id": extension.id, "from": current.value, **(data or {})}
    record_event(work, extension.case_id, f"extension_{wanted.value}", actor, details)
    audit.record(work.session, at=work.now, actor=actor, action=f"extension.{wanted.value}", target_kind="case",
                 target_id=extension.case_id, detail=details)  # fmt: skip


def parse_amount(text: str | None, settings: Settings) -> Limit | None:
    """``3`` (working days), ``3wd``, ``48h``; the default when empty; None when it is not a limit or
    longer than ``deadlines.extension_max``."""
    raw = (text or "").strip().lower() or settings.deadlines.extension_default
    if raw.isdigit():
        raw += "wd"
    try:
        limit = Limit.parse(raw)
    except ValueError:
        return None
    most = Limit.parse(settings.deadlines.extension_max)
    if limit.amount <= 0 or _hours(limit) > _hours(most):
        return None
    return limit


def _hours(limit: Limit) -> float:
    # A working day is longer than 24 hours on the calendar; compared as 24 here, which is all a cap needs.
    return limit.amount * (24 if limit.unit == "wd" else 1)


def _refuse(code: str, lang: str, case: Case | None = None, **params: Any) -> ActionResult:
    ref = case.ref if case else ""
    return ActionResult(False, code, said(f"extension.refused.{code}", lang, ref=ref, **params), ref)


def _holder(case: Case) -> int | None:
    return case.assignee_staff_id or case.acknowledged_by


def request(work: Work, services: Services, case_id: int, actor: Actor, *, amount: str | None, reason: str,
            channel: str) -> ActionResult:  # fmt: skip
    """The holder asks for more time; the level above is paged."""
    session, settings, lang = work.session, services.settings, actor.lang
    case = cases.get(session, case_id)
    if case is None:
        return _refuse("unknown_case", lang)
    staff = actor.staff(session)
    if not actor.console and (staff is None or staff.id != _holder(case)):
        return _refuse("not_holder", lang, case)
    if case.status != CaseStatus.ACKNOWLEDGED or case.resolve_due_at is None:
        return _refuse("not_held", lang, case)
    words = reason.strip()
    if not words:
        return _refuse("no_reason", lang, case)
    limit = parse_amount(amount, settings)
    if limit is None:
        return _refuse("bad_amount", lang, case, most=settings.deadlines.extension_max)
    pending = store.latest_extension(session, case.id or 0, [ExtensionStatus.REQUESTED.value])
    if pending is not None:
        return _refuse("pending", lang, case)
    old = case.resolve_due_at
    new_due = deadline_after(settings, limit, max(old, work.now))
    extension = store.add_extension(session, Extension(
        case_id=case.id or 0, status=ExtensionStatus.REQUESTED.value, requested_by=actor.label,
        requested_by_staff_id=staff.id if staff else None, requested_at=work.now, reason=words[:1000],
        amount=f"{limit.amount}{limit.unit}", old_due_at=old, new_due_at=new_due,
    ))  # fmt: skip
    approvers = _approvers(work, services, case, staff)
    targets = [Target(p, TO_DECIDE, why(Reason.DECIDES_EXTENSION)) for p in approvers]
    done = page_targets(work, case, targets, step_index=0, round_=steps.last_round(session, case.id or 0))
    paged = [str(e["name"]) for e in done if e.get("page_id")]
    details = {"extension_id": extension.id, "reason": extension.reason, "amount": extension.amount,
               "old_due": _local(settings, old), "new_due": _local(settings, new_due), "paged": paged,
               "channel": channel}  # fmt: skip
    record_event(work, case.id, "extension_requested", actor.label, details)
    audit.record(session, at=work.now, actor=actor.label, action="extension.requested", target_kind="case",
                 target_id=case.id or 0, detail=details)  # fmt: skip
    publish_case(work, case)
    return ActionResult(True, "extension_requested", said("extension.done.requested", lang, ref=case.ref,
                        due=_local(settings, new_due)), case.ref)  # fmt: skip


def _approvers(work: Work, services: Services, case: Case, requester: Staff | None) -> list[Staff]:
    index = Directory.for_services(services).grid_index(work.session)
    for target in LEVEL_UP:
        found = [x.staff for x in resolve_targets(work.session, index, case, target, work.now,
                                                  services.settings.timezone)]  # fmt: skip
        found = [p for p in found if requester is None or p.id != requester.id]
        if found:
            return found
    return []


def may_decide(work: Work, services: Services, case: Case, actor: Actor, extension: Extension) -> bool:
    """The level above: a level-2 / level-1 contact or a supervisor of the case's chain, never the asker."""
    if actor.console:
        return actor.label != extension.requested_by
    staff = actor.staff(work.session)
    if staff is None or staff.id == extension.requested_by_staff_id:
        return False
    return staff.role in CHAIN_ROLES and may_act(services, work, case, staff)


def decide(work: Work, services: Services, case_id: int, actor: Actor, *, approve: bool, note: str = "",
           channel: str) -> ActionResult:  # fmt: skip
    """Approve (the deadline moves, chasing follows it) or refuse the pending extension."""
    session, settings, lang = work.session, services.settings, actor.lang
    case = cases.get(session, case_id)
    if case is None:
        return _refuse("unknown_case", lang)
    extension = store.latest_extension(session, case.id or 0, [s.value for s in ExtensionStatus])
    if extension is None or extension.status != ExtensionStatus.REQUESTED:
        return _refuse("nothing_pending", lang, case)
    if not may_decide(work, services, case, actor, extension):
        return _refuse("not_allowed", lang, case)
    extension.decided_by, extension.decision_note = actor.label, note.strip()[:1000] or None
    wanted = ExtensionStatus.APPROVED if approve else ExtensionStatus.REFUSED
    new_due = _local(settings, extension.new_due_at)
    data = {"note": extension.decision_note or "", "channel": channel, "new_due": new_due}
    if approve and case.status == CaseStatus.ACKNOWLEDGED:
        case.resolve_due_at = extension.new_due_at
        held = [TransferStatus.ACCEPTED.value, TransferStatus.REJECTED.value]
        transfer = store.latest_in(session, case.id or 0, held)
        if transfer is not None and transfer.status in OPEN_TRANSFER_STATUSES and (
            transfer.accepted_by == extension.requested_by_staff_id
        ):
            transfer.due_at = extension.new_due_at
    elif approve:
        return _refuse("not_held", lang, case)
    transition(work, extension, wanted, actor.label, data)
    asker = session.get(Staff, extension.requested_by_staff_id) if extension.requested_by_staff_id else None
    if asker is not None:
        page_targets(work, case, [Target(asker, DECIDED, why(Reason.EXTENSION_DECIDED))], step_index=0,
                     round_=steps.last_round(session, case.id or 0))  # fmt: skip
    case.updated_at = work.now
    publish_case(work, case)
    key = "extension.done.approved" if approve else "extension.done.refused"
    text = said(key, lang, ref=case.ref, due=new_due)
    return ActionResult(True, f"extension_{wanted.value}", text, case.ref)


def last_moved_at(session: Session, case_id: int) -> datetime | None:
    """When the case's deadline was last moved by an approved extension (chasing starts over then)."""
    event = case_events.latest_event(session, case_id, "extension_approved")
    return event.at if event is not None else None


def page_params(session: Session, settings: Settings, case: Case, page: Page) -> dict[str, str] | None:
    """What an extension page fills its texts with; ``kind`` picks the text (asked, approved, refused)."""
    if page.reason not in PAGE_REASONS:
        return None
    extension = store.latest_extension(session, case.id or 0, [s.value for s in ExtensionStatus])
    if extension is None:
        return None
    asker = session.get(Staff, extension.requested_by_staff_id) if extension.requested_by_staff_id else None
    return {
        "kind": page.reason if page.reason == TO_DECIDE else extension.status,
        "name": asker.name if asker else extension.requested_by,
        "reason": extension.reason[:200],
        "old_due": _local(settings, extension.old_due_at),
        "new_due": _local(settings, extension.new_due_at),
        "note": extension.decision_note or "",
    }


async def request_extension(services: Services, case_id: int, actor: Actor, *, amount: str | None, reason: str,
                            channel: str) -> ActionResult:  # fmt: skip
    return await in_transaction(services, request, services, case_id, actor, amount=amount, reason=reason,
                                channel=channel)  # fmt: skip


async def decide_extension(services: Services, case_id: int, actor: Actor, *, approve: bool, note: str = "",
                           channel: str) -> ActionResult:  # fmt: skip
    return await in_transaction(services, decide, services, case_id, actor, approve=approve, note=note,
                                channel=channel)  # fmt: skip
