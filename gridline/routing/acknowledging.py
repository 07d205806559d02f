"""Acknowledgement (接单): a staff member takes the case. It stops the escalation at once: pending
steps are cancelled, every other open page expires (and is edited on channels that can edit), and
the resident is told who took it."""

from __future__ import annotations

from gridline.domain.lifecycle import CASE, OPEN_PAGE_STATUSES, PAGE, CaseStatus, PageStatus
from gridline.kernel.notify import said
from gridline.kernel.outbox import tell_reporters
from gridline.kernel.work import Work
from gridline.routing.action_result import ActionResult
from gridline.routing.escalation import cancel_pending_steps
from gridline.routing.pages import acting_page, expire_other_pages
from gridline.routing.timeline import publish_case, transition
from gridline.storage import acknowledgements, pages
from gridline.storage.models import Case, Page, Staff


def acknowledge(work: Work, case: Case, staff: Staff, channel: str, page_id: int | None, actor: str) -> ActionResult:
    """``staff`` takes ``case`` from ``channel`` (from ``page_id``, else their newest page about it)."""
    lang = staff.lang
    if case.status == CaseStatus.ACKNOWLEDGED:
        holder = work.session.get(Staff, case.acknowledged_by) if case.acknowledged_by else None
        name = holder.name if holder else "—"
        key = "action.already_yours" if holder and holder.id == staff.id else "action.already_acknowledged"
        return ActionResult(False, "already_acknowledged", said(key, lang, ref=case.ref, name=name), case.ref, name)
    CASE.check(case.status, CaseStatus.ACKNOWLEDGED)
    page = acting_page(work.session, case, staff, page_id)
    told = mark_acknowledged(work, case, staff, channel, page, actor)
    # A case with nobody to tell (主动发现 on a visit) does not claim the resident was told.
    key = "action.acknowledged" if told else "action.acknowledged_quiet"
    return ActionResult(True, "acknowledged", said(key, lang, ref=case.ref), case.ref, staff.name, nobody_told=not told)


def mark_acknowledged(work: Work, case: Case, staff: Staff, channel: str, page: Page | None, actor: str) -> bool:
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
    acknowledgements.add(
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


def tell_earlier_pages_who_took_it(work: Work, case: Case, staff: Staff, skip: set[int]) -> None:
    """Pages delivered and ended since the case was last taken (their person passed it up with 上报,
    or it went past them) still read 「…已上报」: when ``staff`` takes it they read 「已由…接单」 too,
    so nobody else goes out. Pages that ended before an earlier acknowledgement said so then."""
    earlier = [a.at for a in acknowledgements.of_case(work.session, case.id or 0)]
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
