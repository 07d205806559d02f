"""Pages: one notification of one person about one case on one channel.

A person's contact methods are tried in order; a page that fails for good on one channel is
followed by a page on the next. Pages to a phone (SMS or voice) carry a small number, unique among
that phone's open pages, that the person replies with (GoAlert's idea).
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from gridline.domain.lifecycle import OPEN_CASE_STATUSES, OPEN_PAGE_STATUSES, PAGE, PageStatus
from gridline.kernel.work import Work
from gridline.storage import directory_cache
from gridline.storage import pages as page_store
from gridline.storage.models import Case, ContactMethod, Page, Staff

PHONE_CHANNELS = ("sms", "voice")
_OPEN_CASES = tuple(s.value for s in OPEN_CASE_STATUSES)


def next_contact_method(
    session: Session, staff: Staff, *, after: ContactMethod | None = None, exclude_ids: set[int] | None = None
) -> ContactMethod | None:
    """The first reachable contact method of ``staff`` after ``after`` (or the first of all)."""
    methods = directory_cache.contact_methods(session, staff.id or 0)
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
    return _smallest_free(page_store.codes_in_use(session, phone, channels=PHONE_CHANNELS, case_statuses=_OPEN_CASES))


def _smallest_free(used: set[int]) -> int:
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
    claimed_by: str | None = None,
) -> Page:
    """A new page (scheduled); with ``claimed_by``, written claimed for sending by that worker (its
    send is made after the commit: ``routing.delivery.claim_new_page``)."""
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
        status=PageStatus.SCHEDULED.value if claimed_by is None else PageStatus.SENDING.value,
        created_at=now,
        claimed_at=None if claimed_by is None else now,
        claimed_by=claimed_by,
    )
    if method.channel in PHONE_CHANNELS and target:
        # Reuse the code this phone already has for this case, so replies stay stable across channels.
        page_store.lock_codes_of(session, target)
        existing, used = page_store.codes_of_phone(session, target, case.id or 0, channels=PHONE_CHANNELS,
                                                   case_statuses=_OPEN_CASES)
        page.code = existing if existing is not None else _smallest_free(used)
    return page_store.add(session, page)


def open_pages_for_phone(session: Session, phone: str) -> list[Page]:
    """Pages sent to ``phone`` (SMS or voice) whose case is still open, newest first."""
    return page_store.not_failed_for_phone(session, phone, channels=PHONE_CHANNELS, case_statuses=_OPEN_CASES)


def page_by_code(session: Session, phone: str, code: int) -> Page | None:
    """The newest page to ``phone`` with reply code ``code``, open or not (for explicit stale answers)."""
    return page_store.by_code(session, phone, code, channels=PHONE_CHANNELS)


def was_paged(session: Session, case_id: int, staff_id: int) -> bool:
    return page_store.was_paged(session, case_id, staff_id)



def acting_page(session: Session, case: Case, staff: Staff, page_id: int | None) -> Page | None:
    """The page ``staff`` acts on ``case`` from: ``page_id`` if it is theirs about the case (else
    None), or without one their newest page about it."""
    if page_id is not None:
        page = page_store.get(session, page_id)
        return page if page is not None and page.case_id == case.id and page.staff_id == staff.id else None
    return page_store.latest_for_staff(session, case.id or 0, staff.id or 0)

def expire_other_pages(work: Work, case: Case, keep_page_id: int | None, note_key: str, **params: str) -> set[int]:
    """End every open page but ``keep_page_id``; the ids of those already delivered, which are
    edited to say ``note_key``."""
    edited: set[int] = set()
    for page in page_store.for_case_with_status(work.session, case.id or 0, [s.value for s in OPEN_PAGE_STATUSES]):
        if page.id == keep_page_id:
            continue
        was_delivered = page.status in (PageStatus.SENT, PageStatus.DELIVERED)
        PAGE.move(page, PageStatus.EXPIRED, work.now)
        if was_delivered and page.id is not None:
            edited.add(page.id)
            work.job("update_page", f"pageupd:{page.id}:{note_key}", page_id=page.id, note_key=note_key, params=params)
    return edited
