"""Filters of the case and conversation lists, parsed from the query string and turned into SQL.

The same :class:`CaseFilters` drives the list, the CSV export and every drill-down link of the
dashboard, so a figure and the cases behind it can never disagree. Everything here is plain
SQLAlchemy Core that runs the same on SQLite and PostgreSQL; text search is a substring match
(``LIKE '%…%'``), which works for Chinese without a word segmenter.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from datetime import date, datetime, time, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import and_, exists, func, literal, or_
from sqlalchemy.sql import Select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col, select

from gridline.domain.lifecycle import UNACKNOWLEDGED_STATUSES
from gridline.edge.params import sane_date
from gridline.edge.text import ascii_int
from gridline.storage.models import Case, Message, Staff
from gridline.storage.types import UTCDateTime

S = TypeVar("S", bound=Select[Any])

PAGE_SIZE = 50
# A page number past this is no list anyone browses (and OFFSET must stay within BIGINT).
MAX_PAGE = 100_000
RATING_CHOICES = ("1", "2", "3", "4", "5", "low", "rated", "none")
SLA_CHOICES = ("breached", "ack", "resolve", "met")


def like_pattern(text: str) -> str:
    """``%text%`` with LIKE's wildcards in ``text`` taken literally (escape character ``\\``)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def parse_date(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return sane_date(date.fromisoformat(value.strip()))
    except ValueError:
        return None


def local_day_bounds(start: date | None, end: date | None, tz: ZoneInfo) -> tuple[datetime | None, datetime | None]:
    """UTC bounds of the local days ``start``..``end`` (both inclusive); the end bound is exclusive."""
    lo = datetime.combine(start, time.min, tz) if start else None
    hi = datetime.combine(end + timedelta(days=1), time.min, tz) if end else None
    return lo, hi


def _flag(value: str | None) -> bool:
    return (value or "").lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class CaseFilters:
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

    @classmethod
    def from_query(cls, params: Mapping[str, str]) -> CaseFilters:
        page = params.get("page", "1")
        return cls(
            grid=params.get("grid", "").strip(),
            category=params.get("category", "").strip(),
            priority=params.get("priority", "").strip(),
            status=params.get("status", "").strip(),
            channel=params.get("channel", "").strip(),
            date_from=parse_date(params.get("from")),
            date_to=parse_date(params.get("to")),
            unacknowledged=_flag(params.get("unacked")),
            acknowledged=_flag(params.get("acked")),
            resolved=_flag(params.get("resolved")),
            sla=params.get("sla", "") if params.get("sla", "") in SLA_CHOICES else "",
            low_confidence=_flag(params.get("lowconf")),
            rating=params.get("rating", "") if params.get("rating", "") in RATING_CHOICES else "",
            staff=params.get("staff", "").strip(),
            merged="exclude" if params.get("merged") == "exclude" else "",
            q=params.get("q", "").strip()[:200],
            page=ascii_int(page, lowest=1, highest=MAX_PAGE) or 1,
        )

    def to_query(self, **changes: Any) -> dict[str, str]:
        """The query-string form (only non-empty values), with ``changes`` applied."""
        merged = replace(self, **changes) if changes else self
        out: dict[str, str] = {}
        names = {"date_from": "from", "date_to": "to", "unacknowledged": "unacked", "acknowledged": "acked",
                 "low_confidence": "lowconf"}
        for f in fields(merged):
            value = getattr(merged, f.name)
            key = names.get(f.name, f.name)
            if isinstance(value, bool):
                if value:
                    out[key] = "1"
            elif isinstance(value, date):
                out[key] = value.isoformat()
            elif f.name == "page":
                if value != 1:
                    out[key] = str(value)
            elif value:
                out[key] = str(value)
        return out

    @property
    def active(self) -> bool:
        return any(v for k, v in asdict(self).items() if k != "page")


def ack_breached(now: datetime) -> ColumnElement[bool]:
    """Acknowledged after ``ack_due_at`` — or never, and the deadline has passed (as of ``now``)."""
    at = func.coalesce(Case.acknowledged_at, Case.resolved_at, Case.closed_at, literal(now, UTCDateTime()))
    return and_(col(Case.ack_due_at).is_not(None), at > Case.ack_due_at)


def resolve_breached(now: datetime) -> ColumnElement[bool]:
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


def apply_case_filters(
    stmt: S,
    filters: CaseFilters,
    *,
    grid_codes: set[str] | None,
    now: datetime,
    tz: ZoneInfo,
    confidence_threshold: float,
    message_scope: ColumnElement[bool],
) -> S:
    """Add the WHERE clauses of ``filters`` to a ``select(Case)``. ``grid_codes`` is the subtree of
    ``filters.grid`` (resolved by the caller, who knows the grid tree)."""
    conditions: list[ColumnElement[bool]] = []
    if filters.grid:
        if filters.grid == "-":  # the triage queue: no grid found
            conditions.append(col(Case.grid_code).is_(None))
        else:
            conditions.append(col(Case.grid_code).in_(sorted(grid_codes or {filters.grid})))
    for value, column in (
        (filters.category, Case.category),
        (filters.priority, Case.priority),
        (filters.status, Case.status),
        (filters.channel, Case.channel),
    ):
        if value:
            conditions.append(col(column) == value)
    lo, hi = local_day_bounds(filters.date_from, filters.date_to, tz)
    if lo is not None:
        conditions.append(col(Case.created_at) >= lo)
    if hi is not None:
        conditions.append(col(Case.created_at) < hi)
    if filters.unacknowledged:
        conditions.append(col(Case.acknowledged_at).is_(None))
        conditions.append(col(Case.status).in_(sorted(UNACKNOWLEDGED_STATUSES)))
    if filters.acknowledged:
        conditions.append(col(Case.acknowledged_at).is_not(None))
    if filters.resolved:
        conditions.append(col(Case.resolved_at).is_not(None))
    if filters.sla == "breached":
        conditions.append(or_(ack_breached(now), resolve_breached(now)))
    elif filters.sla == "ack":
        conditions.append(ack_breached(now))
    elif filters.sla == "resolve":
        conditions.append(resolve_breached(now))
    elif filters.sla == "met":
        conditions.append(and_(~ack_breached(now), ~resolve_breached(now)))
    if filters.low_confidence:
        conditions.append(col(Case.nlu_confidence) < confidence_threshold)
    if filters.rating in ("1", "2", "3", "4", "5"):
        conditions.append(col(Case.rating) == int(filters.rating))
    elif filters.rating == "low":
        conditions.append(col(Case.rating) <= 2)
    elif filters.rating == "rated":
        conditions.append(col(Case.rating).is_not(None))
    elif filters.rating == "none":
        conditions.append(col(Case.rating).is_(None))
    if filters.staff:
        staff_id = select(Staff.id).where(Staff.code == filters.staff).scalar_subquery()
        conditions.append(
            or_(
                col(Case.acknowledged_by) == staff_id,
                and_(col(Case.acknowledged_by).is_(None), col(Case.assignee_staff_id) == staff_id),
            )
        )
    if filters.merged == "exclude":
        conditions.append(col(Case.duplicate_of_id).is_(None))
    if filters.q:
        conditions.append(text_search(filters.q, message_scope))
    return stmt.where(*conditions) if conditions else stmt
