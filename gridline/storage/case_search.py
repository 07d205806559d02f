"""The console's case search: the criteria a list, an export and a dashboard drill-down share, as SQL.

The same :class:`CaseCriteria` (parsed from a query string by ``console.filters.CaseFilters``) drives
the case list, the CSV export and every drill-down link of the dashboard, so a figure and the cases
behind it can never disagree. Everything here is plain SQLAlchemy Core that runs the same on SQLite
and PostgreSQL; text search is a substring match (``LIKE '%…%'``), which works for Chinese without a
word segmenter.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import asdict, dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import and_, exists, func, literal, or_
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from gridline.clock import local_day_bounds
from gridline.domain.lifecycle import UNACKNOWLEDGED_STATUSES
from gridline.storage.models import Case, Message, Staff
from gridline.storage.types import UTCDateTime


def like_pattern(text: str) -> str:
    """``%text%`` with LIKE's wildcards in ``text`` taken literally (escape character ``\\``)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


@dataclass(frozen=True)
class CaseCriteria:
    """What a case list is narrowed to (every field empty: no narrowing)."""

    grid: str = ""
    category: str = ""
    priority: str = ""
    status: str = ""
    channel: str = ""
    date_from: date | None = None
    date_to: date | None = None
    unacknowledged: bool = False
    acknowledged: bool = False
    resolved: bool = False
    sla: str = ""
    low_confidence: bool = False
    rating: str = ""
    staff: str = ""
    # "exclude": leave out cases merged into another (the dashboard counts those in the one kept).
    merged: str = ""
    q: str = ""
    page: int = 1

    @property
    def active(self) -> bool:
        return any(v for k, v in asdict(self).items() if k != "page")


@dataclass(frozen=True)
class CaseSearch:
    """A search as the store runs it: the criteria and what they are resolved against."""

    criteria: CaseCriteria
    # Who may see what: clauses on Case and on Message (``storage.scopes``).
    scope: ColumnElement[bool]
    message_scope: ColumnElement[bool]
    # The subtree of ``criteria.grid`` (resolved by the caller, who knows the grid tree).
    grid_codes: Collection[str] | None
    now: datetime
    tz: ZoneInfo
    confidence_threshold: float


def ack_breached(now: datetime) -> ColumnElement[bool]:
    """Acknowledged after ``ack_due_at`` — or never, and the deadline has passed (as of ``now``)."""
    at = func.coalesce(Case.acknowledged_at, Case.resolved_at, Case.closed_at, literal(now, UTCDateTime()))
    return and_(col(Case.ack_due_at).is_not(None), at > Case.ack_due_at)


def resolve_breached(now: datetime) -> ColumnElement[bool]:
    """Resolved (or closed) after ``resolve_due_at`` — or not yet, and the deadline has passed."""
    at = func.coalesce(Case.resolved_at, Case.closed_at, literal(now, UTCDateTime()))
    return and_(col(Case.resolve_due_at).is_not(None), at > Case.resolve_due_at)


def text_search(q: str, message_scope: ColumnElement[bool]) -> ColumnElement[bool]:
    """Cases whose reference, summary or any visible message contains ``q``."""
    pattern = like_pattern(q)
    in_messages = exists(
        select(Message.id).where(
            Message.case_id == Case.id,
            col(Message.text).ilike(pattern, escape="\\"),
            message_scope,
        )
    )
    return or_(
        col(Case.ref).ilike(pattern, escape="\\"),
        col(Case.summary).ilike(pattern, escape="\\"),
        in_messages,
    )


def conditions(search: CaseSearch) -> list[ColumnElement[bool]]:
    """The WHERE clauses of the search's criteria (not its scope)."""
    filters, now = search.criteria, search.now
    found: list[ColumnElement[bool]] = []
    if filters.grid:
        if filters.grid == "-":  # the triage queue: no grid found
            found.append(col(Case.grid_code).is_(None))
        else:
            found.append(col(Case.grid_code).in_(sorted(search.grid_codes or {filters.grid})))
    for value, column in (
        (filters.category, Case.category),
        (filters.priority, Case.priority),
        (filters.status, Case.status),
        (filters.channel, Case.channel),
    ):
        if value:
            found.append(col(column) == value)
    lo, hi = local_day_bounds(filters.date_from, filters.date_to, search.tz)
    if lo is not None:
        found.append(col(Case.created_at) >= lo)
    if hi is not None:
        found.append(col(Case.created_at) < hi)
    if filters.unacknowledged:
        found.append(col(Case.acknowledged_at).is_(None))
        found.append(col(Case.status).in_(sorted(UNACKNOWLEDGED_STATUSES)))
    if filters.acknowledged:
        found.append(col(Case.acknowledged_at).is_not(None))
    if filters.resolved:
        found.append(col(Case.resolved_at).is_not(None))
    if filters.sla == "breached":
        found.append(or_(ack_breached(now), resolve_breached(now)))
    elif filters.sla == "ack":
        found.append(ack_breached(now))
    elif filters.sla == "resolve":
        found.append(resolve_breached(now))
    elif filters.sla == "met":
        found.append(and_(~ack_breached(now), ~resolve_breached(now)))
    if filters.low_confidence:
        found.append(col(Case.nlu_confidence) < search.confidence_threshold)
    if filters.rating in ("1", "2", "3", "4", "5"):
        found.append(col(Case.rating) == int(filters.rating))
    elif filters.rating == "low":
        found.append(col(Case.rating) <= 2)
    elif filters.rating == "rated":
        found.append(col(Case.rating).is_not(None))
    elif filters.rating == "none":
        found.append(col(Case.rating).is_(None))
    if filters.staff:
        staff_id = select(Staff.id).where(Staff.code == filters.staff).scalar_subquery()
        found.append(
            or_(
                col(Case.acknowledged_by) == staff_id,
                and_(col(Case.acknowledged_by).is_(None), col(Case.assignee_staff_id) == staff_id),
            )
        )
    if filters.merged == "exclude":
        found.append(col(Case.duplicate_of_id).is_(None))
    if filters.q:
        found.append(text_search(filters.q, search.message_scope))
    return found


def _matching(search: CaseSearch) -> SelectOfScalar[Case]:
    """``select(Case)`` within the scope and the criteria, newest first."""
    stmt = select(Case).where(search.scope, *conditions(search))
    return stmt.order_by(col(Case.created_at).desc(), col(Case.id).desc())


def page_of_cases(session: Session, search: CaseSearch, *, page_size: int) -> tuple[list[Case], int, int, int]:
    """One page of the matching cases, newest first: (cases, total, the page shown — the last one
    when ``criteria.page`` is past it —, number of pages)."""
    stmt = _matching(search)
    total = session.exec(select(func.count()).select_from(stmt.order_by(None).subquery())).one()
    pages = max(1, (total + page_size - 1) // page_size)
    page = min(search.criteria.page, pages)
    found = list(session.exec(stmt.offset((page - 1) * page_size).limit(page_size)))
    return found, total, page, pages


def first_cases(session: Session, search: CaseSearch, *, limit: int) -> list[Case]:
    """The first ``limit`` matching cases, newest first (an export)."""
    return list(session.exec(_matching(search).limit(limit)))
