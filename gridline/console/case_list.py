"""The case list: filtered, scoped, paginated rows with the names the table shows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from gridline.clock import as_utc
from gridline.console.access import Viewer, case_scope, message_scope
from gridline.console.filters import PAGE_SIZE, CaseFilters, apply_case_filters
from gridline.console.grids import GridTree
from gridline.storage.models import Case, Staff


@dataclass(frozen=True)
class SlaState:
    """Where a case stands against its deadlines as of ``now`` (same rule as the SQL filter)."""

    ack_breached: bool
    resolve_breached: bool

    @property
    def breached(self) -> bool:
        return self.ack_breached or self.resolve_breached


def sla_state(case: Case, now: datetime) -> SlaState:
    def late(due: datetime | None, *done: datetime | None) -> bool:
        if due is None:
            return False
        at = next((as_utc(d) for d in done if d is not None), now)
        return at > as_utc(due)

    return SlaState(
        ack_breached=late(case.ack_due_at, case.acknowledged_at, case.resolved_at, case.closed_at),
        resolve_breached=late(case.resolve_due_at, case.resolved_at, case.closed_at),
    )


def time_to_acknowledge(case: Case) -> timedelta | None:
    if case.acknowledged_at is None:
        return None
    return as_utc(case.acknowledged_at) - as_utc(case.created_at)


def time_to_resolve(case: Case) -> timedelta | None:
    if case.resolved_at is None:
        return None
    return as_utc(case.resolved_at) - as_utc(case.created_at)


@dataclass
class CaseRow:
    case: Case
    grid_name: str
    staff_name: str
    sla: SlaState


@dataclass
class CasePage:
    rows: list[CaseRow]
    total: int
    page: int
    pages: int


def scoped_case_query(
    viewer: Viewer,
    filters: CaseFilters,
    tree: GridTree,
    *,
    now: datetime,
    tz: ZoneInfo,
    confidence_threshold: float,
) -> SelectOfScalar[Case]:
    """``select(Case)`` limited to the viewer's scope and the filters, newest first."""
    stmt = select(Case).where(case_scope(viewer))
    stmt = apply_case_filters(
        stmt,
        filters,
        grid_codes=tree.subtree(filters.grid) if filters.grid and filters.grid != "-" else None,
        now=now,
        tz=tz,
        confidence_threshold=confidence_threshold,
        message_scope=message_scope(viewer),
    )
    return stmt.order_by(col(Case.created_at).desc(), col(Case.id).desc())


def staff_names(session: Session, ids: set[int]) -> dict[int, Staff]:
    if not ids:
        return {}
    return {s.id: s for s in session.exec(select(Staff).where(col(Staff.id).in_(sorted(ids)))).all() if s.id}


def to_rows(session: Session, cases: Sequence[Case], tree: GridTree, now: datetime) -> list[CaseRow]:
    people = staff_names(
        session, {sid for c in cases for sid in (c.acknowledged_by, c.assignee_staff_id) if sid is not None}
    )
    rows = []
    for case in cases:
        sid = case.acknowledged_by or case.assignee_staff_id
        staff = people.get(sid) if sid else None
        rows.append(CaseRow(case=case, grid_name=tree.short_name(case.grid_code),
                            staff_name=staff.name if staff else "", sla=sla_state(case, now)))
    return rows


def list_cases(
    session: Session,
    viewer: Viewer,
    filters: CaseFilters,
    tree: GridTree,
    *,
    now: datetime,
    tz: ZoneInfo,
    confidence_threshold: float,
    page_size: int = PAGE_SIZE,
) -> CasePage:
    stmt = scoped_case_query(viewer, filters, tree, now=now, tz=tz, confidence_threshold=confidence_threshold)
    total = session.exec(select(func.count()).select_from(stmt.order_by(None).subquery())).one()
    pages = max(1, (total + page_size - 1) // page_size)
    page = min(filters.page, pages)
    cases = session.exec(stmt.offset((page - 1) * page_size).limit(page_size)).all()
    return CasePage(rows=to_rows(session, cases, tree, now), total=total, page=page, pages=pages)
