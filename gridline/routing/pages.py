"""Pages: one notification of one person about one case on one channel.

A person's contact methods are tried in order; a page that fails for good on one channel is
followed by a page on the next. Pages to a phone (SMS or voice) carry a small number, unique among
that phone's open pages, that the person replies with (GoAlert's idea).
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from gridline.routing.lifecycle import OPEN_CASE_STATUSES, OPEN_PAGE_STATUSES, PageStatus
from gridline.storage.models import Case, ContactMethod, Page, Staff

PHONE_CHANNELS = ("sms", "voice")


def contact_methods(session: Session, staff_id: int) -> list[ContactMethod]:
    return list(
        session.exec(
            select(ContactMethod)
            .where(ContactMethod.staff_id == staff_id)
            .order_by(col(ContactMethod.position), col(ContactMethod.id))
        )
    )


def next_contact_method(
    session: Session, staff: Staff, *, after: ContactMethod | None = None, exclude_ids: set[int] | None = None
) -> ContactMethod | None:
    """The first reachable contact method of ``staff`` after ``after`` (or the first of all)."""
    methods = contact_methods(session, staff.id or 0)
    if after is not None:
        methods = [m for m in methods if (m.position, m.id or 0) > (after.position, after.id or 0)]
    for method in methods:
        if method.unreachable or (exclude_ids and method.id in exclude_ids):
            continue
        return method
    return None


def _target_of(method: ContactMethod, staff: Staff) -> str:
    if method.channel in PHONE_CHANNELS:
        return method.target or staff.phone or ""
    return method.target


def allocate_code(session: Session, phone: str) -> int:
    """The smallest positive number not used by an open page to ``phone``."""
    used = set(
        session.exec(
            select(Page.code)
            .join(Case, col(Case.id) == col(Page.case_id))
            .where(
                col(Page.target) == phone,
                col(Page.channel).in_(PHONE_CHANNELS),
                col(Page.code).is_not(None),
                col(Case.status).in_([s.value for s in OPEN_CASE_STATUSES]),
            )
        )
    )
    code = 1
    while code in used:
        code += 1
    return code


def create_page(
    session: Session,
    *,
    case: Case,
    staff: Staff,
    method: ContactMethod,
    now: datetime,
    step_index: int,
    round_: int,
    reason: str,
) -> Page:
    target = _target_of(method, staff)
    page = Page(
        case_id=case.id or 0,
        staff_id=staff.id or 0,
        step_index=step_index,
        round=round_,
        reason=reason,
        channel=method.channel,
        target=target,
        bot_name=method.bot_name,
        contact_method_id=method.id,
        status=PageStatus.SCHEDULED.value,
        created_at=now,
    )
    if method.channel in PHONE_CHANNELS and target:
        # Reuse the code this phone already has for this case, so replies stay stable across channels.
        existing = session.exec(
            select(Page.code).where(Page.case_id == case.id, Page.target == target, col(Page.code).is_not(None))
        ).first()
        page.code = existing if existing is not None else allocate_code(session, target)
    session.add(page)
    session.flush()
    return page


def open_pages_for_case(session: Session, case_id: int) -> list[Page]:
    return list(
        session.exec(
            select(Page).where(Page.case_id == case_id, col(Page.status).in_([s.value for s in OPEN_PAGE_STATUSES]))
        )
    )


def open_pages_for_phone(session: Session, phone: str) -> list[Page]:
    """Pages sent to ``phone`` (SMS or voice) whose case is still open, newest first."""
    return list(
        session.exec(
            select(Page)
            .join(Case, col(Case.id) == col(Page.case_id))
            .where(
                col(Page.target) == phone,
                col(Page.channel).in_(PHONE_CHANNELS),
                col(Case.status).in_([s.value for s in OPEN_CASE_STATUSES]),
                col(Page.status) != PageStatus.FAILED.value,
            )
            .order_by(col(Page.created_at).desc(), col(Page.id).desc())
        )
    )


def page_by_code(session: Session, phone: str, code: int) -> Page | None:
    """The newest page to ``phone`` with reply code ``code``, open or not (for explicit stale answers)."""
    return session.exec(
        select(Page)
        .where(col(Page.target) == phone, col(Page.channel).in_(PHONE_CHANNELS), Page.code == code)
        .order_by(col(Page.created_at).desc(), col(Page.id).desc())
    ).first()


def was_paged(session: Session, case_id: int, staff_id: int) -> bool:
    return (
        session.exec(select(Page.id).where(Page.case_id == case_id, Page.staff_id == staff_id).limit(1)).first()
        is not None
    )
