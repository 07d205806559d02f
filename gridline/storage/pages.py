"""Pages: one notification of one staff member about one case on one channel (``pages``).

Claims are conditional UPDATEs (scheduled → sending), so two workers never send the same page.
Pages to a phone carry a reply code unique among that phone's open pages.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import bindparam, func, insert, or_, text, update
from sqlmodel import Session, col, select

from gridline.domain.lifecycle import PAGE, PageStatus
from gridline.storage.bulk import chunks
from gridline.storage.models import Case, Page, Staff
from gridline.storage.prepared import Prepared

_TABLE = Page.__table__  # type: ignore[attr-defined]
# The hot statements of a page (its INSERT, claim, case, record and reply codes) are prebuilt and
# run straight on the driver (``storage.prepared``).
# ``flush=True``: as the ``Session.execute`` they replace, they flush the session's pending changes
# first (a page's codes are read after a case's change in the same transaction).
_INSERT = Prepared(insert(_TABLE).returning(_TABLE.c.id), flush=True)
_COLUMNS = tuple(c.name for c in _TABLE.columns if c.name != "id")


def add(session: Session, page: Page) -> Page:
    """Store a new page: one INSERT … RETURNING id (Core, not the ORM's flush). The page gets its id
    but is not in the session: nothing changes a page in the transaction that creates it."""
    page.id = int(_INSERT.scalar(session, {name: getattr(page, name) for name in _COLUMNS}))
    return page


def get(session: Session, page_id: int, *, fresh: bool = False) -> Page | None:
    """The page; ``fresh`` re-reads it even when the session already holds it (after an UPDATE)."""
    return session.get(Page, page_id, populate_existing=fresh)


class ClaimedPage(NamedTuple):
    """What sending a claimed page needs of its row (``claim_for_sending``)."""

    id: int
    case_id: int
    staff_id: int
    step_index: int
    round: int
    reason: str
    channel: str
    target: str
    bot_name: str
    code: int | None
    next_attempt_at: datetime | None
    error: str | None
    created_at: datetime


_CLAIMED_COLUMNS = tuple(getattr(_TABLE.c, name) for name in ClaimedPage._fields)
_CLAIM = Prepared(
    update(_TABLE)
    .where(_TABLE.c.id == bindparam("page_id"), _TABLE.c.status == PAGE.guard(PageStatus.SCHEDULED, PageStatus.SENDING))
    .values(status=PageStatus.SENDING.value, claimed_at=bindparam("now"), claimed_by=bindparam("worker"))
    .returning(*_CLAIMED_COLUMNS),
    flush=True,
)
_statements: dict[str, Any] = {}


def claim_for_sending(session: Session, page_id: int, *, now: datetime, worker: str) -> ClaimedPage | None:
    """The page, claimed (scheduled → sending) for ``worker``; None when it is not scheduled. One
    ``UPDATE … RETURNING`` of the columns a send needs (Core: no ORM object)."""
    rows = _CLAIM.rows(session, {"page_id": page_id, "now": now, "worker": worker})
    return ClaimedPage(*rows[0]) if len(rows) == 1 else None


class CaseOfPage(NamedTuple):
    """The columns of a case a page's words and its claim's checks need (``case_of_page``)."""

    id: int
    ref: str
    status: str
    grid_code: str | None
    category: str
    priority: str
    summary: str
    address_text: str | None
    lat: float | None
    lon: float | None
    report_count: int
    policy: dict[str, Any]
    resolve_due_at: datetime | None


_CASES = Case.__table__  # type: ignore[attr-defined]
_CASE_OF_PAGE = Prepared(
    select(*(getattr(_CASES.c, name) for name in CaseOfPage._fields)).where(_CASES.c.id == bindparam("case_id")),
    flush=True,
)


def case_of_page(session: Session, case_id: int) -> CaseOfPage | None:
    """The case a page is about, as its words need it: one narrow SELECT (Core), not the whole row
    (its timeline explanation grows with every step)."""
    row = _CASE_OF_PAGE.first(session, {"case_id": case_id})
    return CaseOfPage(*row) if row is not None else None


def unclaim(session: Session, page_id: int, wanted: PageStatus, *, now: datetime) -> None:
    """A page this transaction claimed is not sent after all: back to scheduled (not due yet) or
    expired (its case was taken), stamped as ``PAGE.move`` stamps it."""
    key = f"unclaim:{wanted.value}"
    statement = _statements.get(key)
    if statement is None:
        stamps = {}
        if wanted == PageStatus.EXPIRED:
            stamps["expired_at"] = func.coalesce(_TABLE.c.expired_at, bindparam("now"))
        statement = _statements[key] = Prepared(
            update(_TABLE)
            .where(_TABLE.c.id == bindparam("page_id"), _TABLE.c.status == PAGE.guard(PageStatus.SENDING, wanted))
            .values(status=wanted.value, **stamps),
            flush=True,
        )
    statement.run(session, {"page_id": page_id, "now": now})


_SENT: dict[str, Prepared] = {}


def record_sent(session: Session, page_id: int, *, state: str, error: str | None, provider_message_id: str | None,
                now: datetime) -> bool:
    """The provider took the page (``state`` sent or delivered) while it is still ``sending``: its
    attempt, error, provider id, status and times in one conditional UPDATE, without reading the
    row first. False when it is not sending any more (the caller then reads it and decides)."""
    wanted = PageStatus(state)
    statement = _SENT.get(wanted.value)
    if statement is None:
        stamps = {"sent_at": func.coalesce(_TABLE.c.sent_at, bindparam("now"))}
        if wanted == PageStatus.DELIVERED:
            stamps["delivered_at"] = func.coalesce(_TABLE.c.delivered_at, bindparam("now"))
        statement = _SENT[wanted.value] = Prepared(
            update(_TABLE)
            .where(_TABLE.c.id == bindparam("page_id"), _TABLE.c.status == PAGE.guard(PageStatus.SENDING, wanted))
            .values(status=wanted.value, attempts=_TABLE.c.attempts + 1, error=bindparam("error"),
                    provider_message_id=func.coalesce(bindparam("provider_message_id"), _TABLE.c.provider_message_id),
                    **stamps),
            flush=True,
        )
    return bool(statement.run(session, {"page_id": page_id, "now": now, "error": error,
                                        "provider_message_id": provider_message_id}))


def lock_codes_of(session: Session, phone: str) -> None:
    """Hold the reply codes of ``phone`` until this transaction ends (PostgreSQL): two pages to one
    phone created at the same time would otherwise both read the codes in use before either commits
    and both take the same number, and a bare "1" in reply would be ambiguous. The lock is taken
    before the read, so the second waits and then sees the first one's code. SQLite has one writer."""
    if session.get_bind().dialect.name == "postgresql":
        _LOCK_CODES.run(session, {"key": f"page-code:{phone}"})


_LOCK_CODES = Prepared(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), flush=True)


def codes_in_use(
    session: Session, phone: str, *, channels: Collection[str], case_statuses: Collection[str]
) -> set[int]:
    """Reply codes of the pages to ``phone`` on ``channels`` whose case is in ``case_statuses``."""
    codes = session.exec(
        select(Page.code)
        .join(Case, col(Case.id) == col(Page.case_id))
        .where(
            col(Page.target) == phone,
            col(Page.channel).in_(list(channels)),
            col(Page.code).is_not(None),
            col(Case.status).in_(list(case_statuses)),
        )
    )
    return {code for code in codes if code is not None}


def codes_of_phone(
    session: Session, phone: str, case_id: int, *, channels: Collection[str], case_statuses: Collection[str]
) -> tuple[int | None, set[int]]:
    """In one SELECT: the reply code ``phone`` already has for case ``case_id`` (``code_for_case``)
    and the codes in use on it (``codes_in_use``)."""
    key = (tuple(channels), tuple(case_statuses))
    statement = _CODES_OF_PHONE.get(key)
    if statement is None:  # prebuilt per set of channels and statuses (one in practice)
        statement = _CODES_OF_PHONE[key] = Prepared(
            select(_TABLE.c.code, _TABLE.c.case_id, _TABLE.c.channel, _CASES.c.status)
            .join(_CASES, _CASES.c.id == _TABLE.c.case_id)
            .where(
                _TABLE.c.target == bindparam("phone"),
                _TABLE.c.code.is_not(None),
                or_(_TABLE.c.case_id == bindparam("case_id"),
                    _TABLE.c.channel.in_(key[0]) & _CASES.c.status.in_(key[1])),
            ),
            flush=True,
        )
    rows = statement.rows(session, {"phone": phone, "case_id": case_id})
    existing = next((code for code, of_case, _, _ in rows if of_case == case_id), None)
    used = {code for code, _, channel, status in rows if channel in channels and status in case_statuses}
    return existing, used


_CODES_OF_PHONE: dict[tuple[tuple[str, ...], tuple[str, ...]], Prepared] = {}


def code_for_case(session: Session, case_id: int, target: str) -> int | None:
    """The reply code ``target`` already has for this case, if any."""
    return session.exec(
        select(Page.code).where(Page.case_id == case_id, Page.target == target, col(Page.code).is_not(None))
    ).first()


def for_case_with_status(session: Session, case_id: int, statuses: Collection[str]) -> list[Page]:
    """The case's pages whose status is one of ``statuses``."""
    return list(session.exec(select(Page).where(Page.case_id == case_id, col(Page.status).in_(list(statuses)))))


def for_case(session: Session, case_id: int) -> list[Page]:
    """Every page of the case, oldest first."""
    return list(
        session.exec(select(Page).where(Page.case_id == case_id).order_by(col(Page.created_at), col(Page.id)))
    )


def not_failed_for_phone(
    session: Session, phone: str, *, channels: Collection[str], case_statuses: Collection[str]
) -> list[Page]:
    """Pages to ``phone`` on ``channels`` whose case is in ``case_statuses``, failed ones left out, newest first."""
    return list(
        session.exec(
            select(Page)
            .join(Case, col(Case.id) == col(Page.case_id))
            .where(
                col(Page.target) == phone,
                col(Page.channel).in_(list(channels)),
                col(Case.status).in_(list(case_statuses)),
                col(Page.status) != "failed",
            )
            .order_by(col(Page.created_at).desc(), col(Page.id).desc())
        )
    )


def by_code(session: Session, phone: str, code: int, *, channels: Collection[str]) -> Page | None:
    """The newest page to ``phone`` with reply code ``code``, open or not."""
    return session.exec(
        select(Page)
        .where(col(Page.target) == phone, col(Page.channel).in_(list(channels)), Page.code == code)
        .order_by(col(Page.created_at).desc(), col(Page.id).desc())
    ).first()


def by_provider_message_id(session: Session, provider_message_id: str, *, channel: str | None = None) -> Page | None:
    """The page a provider knows as ``provider_message_id`` (a Twilio SID, a Telegram ``chat:message``)."""
    query = select(Page).where(Page.provider_message_id == provider_message_id)
    if channel is not None:
        query = query.where(Page.channel == channel)
    return session.exec(query).first()


def was_paged(session: Session, case_id: int, staff_id: int) -> bool:
    """Whether the person was ever paged about the case."""
    found = session.exec(select(Page.id).where(Page.case_id == case_id, Page.staff_id == staff_id).limit(1)).first()
    return found is not None


def latest_for_staff(session: Session, case_id: int, staff_id: int) -> Page | None:
    """The person's newest page about the case."""
    return session.exec(
        select(Page).where(Page.case_id == case_id, Page.staff_id == staff_id).order_by(col(Page.id).desc())
    ).first()


def methods_tried(session: Session, *, case_id: int, staff_id: int, round_: int, step_index: int) -> set[int]:
    """Contact methods already used to page the person for this step of this round."""
    rows = session.exec(
        select(Page.contact_method_id).where(
            Page.case_id == case_id,
            Page.staff_id == staff_id,
            Page.round == round_,
            Page.step_index == step_index,
        )
    )
    return {i for i in rows if i is not None}


def case_ids_paging(session: Session, staff_id: int) -> list[int]:
    """Ids of the cases the person was paged about."""
    return list(set(session.exec(select(Page.case_id).where(Page.staff_id == staff_id))))


def contact_methods_paged(session: Session, method_ids: Collection[int]) -> set[int]:
    """Which of these contact methods some page was sent on (they must stay, pages point at them)."""
    used: set[int] = set()
    for batch in chunks(sorted(method_ids)):
        used.update(
            i
            for i in session.exec(select(Page.contact_method_id).where(col(Page.contact_method_id).in_(batch)))
            if i is not None
        )
    return used


def open_counts_by_staff(session: Session, channel: str, statuses: Collection[str]) -> dict[int, int]:
    """How many pages on ``channel`` in ``statuses`` each staff member has."""
    rows = session.exec(
        select(Page.staff_id, func.count())
        .where(Page.channel == channel, col(Page.status).in_(list(statuses)))
        .group_by(col(Page.staff_id))
    ).all()
    return {int(staff_id): int(count) for staff_id, count in rows}


def for_case_with_staff_names(session: Session, case_id: int) -> list[tuple[Page, str]]:
    """The case's pages in order, each with the paged person's name."""
    return [(page, name) for page, name in session.exec(
        select(Page, Staff.name).join(Staff, col(Staff.id) == col(Page.staff_id))
        .where(Page.case_id == case_id).order_by(col(Page.id))
    )]


def newest_for_staff(session: Session, staff_id: int, limit: int) -> list[Page]:
    """The person's pages, newest first."""
    return list(session.exec(
        select(Page).where(Page.staff_id == staff_id)
        .order_by(col(Page.created_at).desc(), col(Page.id).desc()).limit(limit)
    ))


def release_lapsed_sends(session: Session, *, claimed_before: datetime, error: str) -> int:
    """Pages whose send claim lapsed (claimed before ``claimed_before``: the worker vanished mid-call)
    go back to scheduled, marked with ``error``; how many."""
    released = session.execute(
        update(Page)
        .where(
            col(Page.status) == PAGE.guard(PageStatus.SENDING, PageStatus.SCHEDULED),
            col(Page.claimed_at) < claimed_before,
        )
        .values(status=PageStatus.SCHEDULED.value, error=error)
    ).rowcount  # type: ignore[attr-defined]
    return int(released or 0)


def due_for_sending(session: Session, *, horizon: datetime, limit: int) -> list[tuple[int, int]]:
    """(page id, attempts) of scheduled pages due by ``horizon`` (created by then, no retry waiting after it)."""
    rows = session.exec(
        select(Page.id, Page.attempts)
        .where(
            Page.status == "scheduled",
            or_(col(Page.next_attempt_at).is_(None), col(Page.next_attempt_at) <= horizon),
            col(Page.created_at) <= horizon,
        )
        .limit(limit)
    ).all()
    return [(page_id or 0, attempts) for page_id, attempts in rows]
