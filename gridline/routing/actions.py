"""What people do to cases: staff acknowledge / resolve / escalate / reassign (from any channel), the
resident rates, supervisors re-categorise, merge, note and close from the console.

Staff actions are allowed only to the people paged about the case or someone above in its grid's
chain. Acknowledgement stops the escalation at once: pending steps are cancelled and every other
open page expires (and is edited on channels that can edit).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from gridline.domain.lifecycle import (
    CASE,
    OPEN_PAGE_STATUSES,
    PAGE,
    STEP,
    CaseStatus,
    PageStatus,
    StaffRole,
    StepStatus,
)
from gridline.domain.staff_actions import StaffAction
from gridline.domain.transfers import OPEN_TRANSFER_STATUSES
from gridline.i18n import DEFAULT_LANGUAGE
from gridline.i18n.phrases import Phrase
from gridline.kernel.notify import Said, said
from gridline.kernel.outbox import tell_reporters
from gridline.kernel.work import Work, in_transaction
from gridline.routing.closure import ask_if_solved, open_follow_up
from gridline.routing.directory import Directory
from gridline.routing.duty import reassignment_candidates
from gridline.routing.escalation import cancel_pending_steps, restart_escalation, schedule_step
from gridline.routing.pages import create_page, next_contact_method
from gridline.routing.timeline import publish_case, record_event, transition
from gridline.storage import cases, pages, steps
from gridline.storage import transfers as transfer_store
from gridline.storage.models import Case, Message, Page, Staff

if TYPE_CHECKING:
    from gridline.kernel.services import Services

CHAIN_ROLES = {StaffRole.LEVEL2_CONTACT.value, StaffRole.LEVEL1_CONTACT.value, StaffRole.SUPERVISOR.value}


@dataclass(frozen=True)
class ActionResult:
    """What came of a staff action: its ``code`` for the channel to branch on, and what the person
    who acted is told (``said``: a catalogue key and its facts, in their language), which their
    channel renders (``bots.page_text.said_text``; the console shows its own text by ``code``)."""

    ok: bool
    code: str  # acknowledged, already_acknowledged, resolved, escalated, reassigned, not_allowed, case_closed, ...
    said: Said | None
    case_ref: str = ""
    by_staff_name: str | None = None
    nobody_told: bool = False  # a case with no resident (主动发现): nobody was told or asked

    @property
    def notice(self) -> str:
        """The code the web inbox and the console show their notice by (``console.inbox.result.<notice>``,
        ``console.done.<notice>``): ``<code>_quiet`` when nobody was told, so the notice does not say so."""
        return f"{self.code}_quiet" if self.nobody_told else self.code


def may_act(services: Services, work: Work, case: Case, staff: Staff) -> bool:
    """The paged person (unless they passed the case on since), the grid's own leader, or someone
    above in the grid's chain."""
    if not staff.active:
        return False
    if pages.was_paged(work.session, case.id or 0, staff.id or 0) and not passed_on(work, case, staff):
        return True
    if case.grid_code is None:
        return staff.role == StaffRole.SUPERVISOR.value
    if staff.role == StaffRole.LEADER.value and staff.grid_code == case.grid_code:
        return True
    if staff.role in CHAIN_ROLES:
        index = Directory.for_services(services).grid_index(work.session)
        chain = [g.code for g in index.chain(case.grid_code)]
        return staff.grid_code is None or staff.grid_code in chain
    return False


def may_take(services: Services, work: Work, case: Case, target: Staff, handing_over: Staff) -> bool:
    """Whether ``target`` is one of the people a channel offers for 转交 (``routing.duty``): a signed
    button or a form names only them, and no other channel may hand a case further afield."""
    index = Directory.for_services(services).grid_index(work.session)
    offered = reassignment_candidates(
        work.session, services.settings, index, case, work.now, handing_over=handing_over
    )
    return any(person.id == target.id for person in offered)


def passed_on(work: Work, case: Case, staff: Staff) -> bool:
    """Whether ``staff`` handed the case to someone else (转交) and has not been paged about it since:
    their old page no longer lets them take it back, escalate it or speak for it."""
    if case.assignee_staff_id in (None, staff.id):
        return False
    handed = cases.latest_event(work.session, case.id or 0, "reassigned")
    if handed is None or handed.actor != f"staff:{staff.code}":
        return False
    newest = pages.latest_for_staff(work.session, case.id or 0, staff.id or 0)
    return newest is None or newest.created_at <= handed.at


def expire_other_pages(work: Work, case: Case, keep_page_id: int | None, note_key: str, **params: str) -> set[int]:
    """End every open page but ``keep_page_id``; the ids of those already delivered, which are
    edited to say ``note_key``."""
    edited: set[int] = set()
    for page in pages.for_case_with_status(work.session, case.id or 0, [s.value for s in OPEN_PAGE_STATUSES]):
        if page.id == keep_page_id:
            continue
        was_delivered = page.status in (PageStatus.SENT, PageStatus.DELIVERED)
        PAGE.move(page, PageStatus.EXPIRED, work.now)
        if was_delivered and page.id is not None:
            edited.add(page.id)
            work.job("update_page", f"pageupd:{page.id}:{note_key}", page_id=page.id, note_key=note_key, params=params)
    return edited


def tell_earlier_pages_who_took_it(work: Work, case: Case, staff: Staff, skip: set[int]) -> None:
    """Pages delivered and ended since the case was last taken (their person passed it up with 上报,
    or it went past them) still read 「…已上报」: when ``staff`` takes it they read 「已由…接单」 too,
    so nobody else goes out. Pages that ended before an earlier acknowledgement said so then."""
    earlier = [a.at for a in cases.acknowledgements(work.session, case.id or 0)]
    since = max(earlier) if earlier else None
    for page in pages.for_case_with_status(work.session, case.id or 0, [PageStatus.EXPIRED.value]):
        if page.id is None or page.id in skip or page.staff_id == staff.id or page.sent_at is None:
            continue
        if since is not None and (page.expired_at is None or page.expired_at <= since):
            continue
        work.job(
            "update_page",
            f"pageupd:{page.id}:taken:{staff.id}:{work.now.isoformat()}",
            page_id=page.id,
            note_key="page.note_acknowledged_by",
            params={"name": staff.name},
        )


def _staff_page(work: Work, case: Case, staff: Staff, page_id: int | None) -> Page | None:
    if page_id is not None:
        page = pages.get(work.session, page_id)
        return page if page is not None and page.case_id == case.id and page.staff_id == staff.id else None
    return pages.latest_for_staff(work.session, case.id or 0, staff.id or 0)


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
        return _acknowledge(work, case, staff, channel, page_id, actor)
    if action == "resolve":
        return _resolve(work, case, staff, channel, page_id, actor)
    if action == "escalate":
        return _escalate_now(work, case, staff, actor)
    if action == "reassign":
        target = session.get(Staff, to_staff_id) if to_staff_id else None
        if target is None or not target.active:
            return ActionResult(False, "unknown_staff", said("action.unknown_staff", lang), case.ref)
        if not may_take(services, work, case, target, staff):
            return ActionResult(False, "cannot_take", said("action.cannot_take", lang, ref=case.ref, name=target.name),
                                case.ref)
        return reassign_case(work, case, staff, target, actor)
    raise ValueError(f"unknown action {action!r}")


def _acknowledge(work: Work, case: Case, staff: Staff, channel: str, page_id: int | None, actor: str) -> ActionResult:
    lang = staff.lang
    if case.status == CaseStatus.ACKNOWLEDGED:
        holder = work.session.get(Staff, case.acknowledged_by) if case.acknowledged_by else None
        name = holder.name if holder else "—"
        key = "action.already_yours" if holder and holder.id == staff.id else "action.already_acknowledged"
        return ActionResult(False, "already_acknowledged", said(key, lang, ref=case.ref, name=name), case.ref, name)
    CASE.check(case.status, CaseStatus.ACKNOWLEDGED)
    page = _staff_page(work, case, staff, page_id)
    told = _mark_acknowledged(work, case, staff, channel, page, actor)
    # A case with nobody to tell (主动发现 on a visit) does not claim the resident was told.
    key = "action.acknowledged" if told else "action.acknowledged_quiet"
    return ActionResult(True, "acknowledged", said(key, lang, ref=case.ref), case.ref, staff.name, nobody_told=not told)


def _mark_acknowledged(work: Work, case: Case, staff: Staff, channel: str, page: Page | None, actor: str) -> bool:
    """Acknowledge ``case`` for ``staff``; whether its resident was told."""
    transition(
        work, case, CaseStatus.ACKNOWLEDGED, kind="acknowledged", actor=actor,
        data={"channel": channel, "page_id": page.id if page else None, "name": staff.name},
    )
    case.acknowledged_by = staff.id
    case.assignee_staff_id = staff.id
    cancel_pending_steps(work, case.id or 0, f"acknowledged by {staff.code}")
    if page is not None and page.status in OPEN_PAGE_STATUSES:
        PAGE.move(page, PageStatus.ACKNOWLEDGED, work.now)
        work.job(
            "update_page", f"pageupd:{page.id}:mine", page_id=page.id, note_key="page.note_you_acknowledged", params={}
        )
    edited = expire_other_pages(work, case, page.id if page else None, "page.note_acknowledged_by", name=staff.name)
    tell_earlier_pages_who_took_it(work, case, staff, edited)
    cases.add_acknowledgement(
        work.session,
        case_id=case.id or 0,
        page_id=page.id if page else None,
        staff_id=staff.id or 0,
        channel=channel,
        at=work.now,
    )
    told = tell_reporters(work, case, "case.acknowledged", name=staff.name)
    publish_case(work, case)
    return bool(told)


def _resolve(work: Work, case: Case, staff: Staff, channel: str, page_id: int | None, actor: str) -> ActionResult:
    lang = staff.lang
    if case.status == CaseStatus.RESOLVED:
        return ActionResult(
            False, "case_closed", said("action.case_closed", lang, ref=case.ref, name=staff.name), case.ref
        )
    if case.status != CaseStatus.ACKNOWLEDGED:
        _mark_acknowledged(work, case, staff, channel, _staff_page(work, case, staff, page_id), actor)
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


def escalate_case(work: Work, case: Case, reason: str) -> bool:
    """Run the next escalation step now; False when the policy has no step left."""
    from gridline.routing.escalation import _next_position
    from gridline.routing.policy import EscalationPolicy

    last = steps.last_done(work.session, case.id or 0)
    cancel_pending_steps(work, case.id or 0, reason)
    policy = EscalationPolicy.from_snapshot(case.policy)
    offset = int(case.policy.get("round_offset", 0))
    nxt = (offset, 0) if last is None else _next_position(policy, last.round, last.step_index, offset)
    if nxt is None:
        # Past the last step: one more round of the last step, so 上报 is never a dead end.
        nxt = (last.round + 1 if last else offset, len(policy.steps) - 1)
        case.policy = {**case.policy, "repeat": policy.repeat + 1}
    existing = steps.at_position(work.session, case.id or 0, nxt[0], nxt[1])
    if existing is not None:
        STEP.move(existing, StepStatus.PENDING, work.now)
        existing.due_at = work.now
        work.job("run_escalation_step", f"step:{existing.id}:now", work.now, step_id=existing.id)
        return True
    schedule_step(work, case, round_=nxt[0], step_index=nxt[1], delay_minutes=0)
    return True


def _escalate_now(work: Work, case: Case, staff: Staff, actor: str) -> ActionResult:
    transition(work, case, CaseStatus.ESCALATED, kind="escalated_by_staff", actor=actor, data={"name": staff.name})
    expire_other_pages(work, case, None, "page.note_escalated_by", name=staff.name)
    escalate_case(work, case, f"escalated by {staff.code}")
    publish_case(work, case)
    return ActionResult(True, "escalated", said("action.escalated", staff.lang, ref=case.ref), case.ref, staff.name)


def reassign_case(work: Work, case: Case, staff: Staff, target: Staff, actor: str) -> ActionResult:
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


def rate_case(
    work: Work, case: Case, rating: int, *, actor: str, comment: str | None = None, low_rating: int = 2
) -> bool:
    """The resident's 1–5 satisfaction rating; closes a resolved case. A low one asks for a 回访."""
    if case.status != CaseStatus.RESOLVED or not 1 <= rating <= 5:
        return False
    case.rating = rating
    case.rating_comment = comment
    transition(work, case, CaseStatus.CLOSED, kind="rated", actor=actor, data={"rating": rating})
    if rating <= low_rating:
        open_follow_up(work, case, "low_rating")
    publish_case(work, case)
    return True


async def relay_staff_reply(services: Services, case_id: int, staff_id: int, text: str, channel: str) -> int:
    """A staff member's words about a case, logged on it and relayed to everyone who reported it — who
    opened it and each neighbour whose report joined it: they follow the case, as they hear its
    news. How many were told (0: not theirs to speak for, or nobody reachable)."""
    return await in_transaction(services, relay_reply, services, case_id, staff_id, text, channel)


def relay_reply(work: Work, services: Services, case_id: int, staff_id: int, text: str, channel: str) -> int:
    """The body of :func:`relay_staff_reply`."""
    case = cases.get(work.session, case_id)
    staff = work.session.get(Staff, staff_id)
    if case is None or staff is None or not may_act(services, work, case, staff):
        return 0
    work.session.add(
        Message(
            case_id=case.id,
            direction="in",
            channel=channel,
            sender_kind="staff",
            staff_id=staff.id,
            text=text,
            created_at=work.now,
            status="received",
            lang=staff.lang,
        )
    )
    record_event(work, case.id or 0, "staff_reply", f"staff:{staff.code}", {"text": text[:500], "name": staff.name})
    # Who is writing as the resident reads it (网格长, 网格员 …): a member is not a second 网格长.
    known = staff.role in {r.value for r in StaffRole}
    role = Phrase(f"staff_role.{staff.role if known else StaffRole.MEMBER.value}")
    return len(tell_reporters(work, case, "case.leader_says", name=staff.name, role=role, text=text))


def _note(work: Work, services: Services, case_id: int, staff_id: int, text: str, channel: str) -> ActionResult:
    case = cases.get(work.session, case_id)
    staff = work.session.get(Staff, staff_id)
    if staff is None:
        return ActionResult(False, "not_allowed", said("action.not_allowed", DEFAULT_LANGUAGE))
    if case is None:
        return ActionResult(False, "unknown_case", said("action.unknown_case", staff.lang))
    if not may_act(services, work, case, staff):
        return ActionResult(False, "not_allowed", said("action.not_allowed", staff.lang, ref=case.ref), case.ref)
    record_event(work, case.id or 0, "note", f"staff:{staff.code}",
                 {"text": text[:4000], "channel": channel, "name": staff.name})
    return ActionResult(True, "noted", said("action.noted", staff.lang, ref=case.ref), case.ref, staff.name)


async def note_case(services: Services, *, case_id: int, staff_id: int, text: str, channel: str) -> ActionResult:
    """A staff member's internal note on a case (not sent to the resident), allowed to the same people
    as the other staff actions; it appears in the case's timeline."""
    return await in_transaction(services, _note, services, case_id, staff_id, text, channel)


__all__ = [
    "ActionResult",
    "act_on_case",
    "escalate_case",
    "may_act",
    "note_case",
    "rate_case",
    "relay_staff_reply",
]
