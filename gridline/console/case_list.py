"""The case list: filtered, scoped, paginated rows with the names the table shows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session

from gridline.clock import as_utc
from gridline.console.access import Viewer, case_scope, message_scope
from gridline.console.filters import PAGE_SIZE, CaseFilters
from gridline.console.grids import GridTree
from gridline.storage import case_search, directory
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


def case_search_for(
    viewer: Viewer,
    filters: CaseFilters,
    tree: GridTree,
    *,
    now: datetime,
    tz: ZoneInfo,
    confidence_threshold: float,
) -> case_search.CaseSearch:
    """The search ``filters`` make, within the viewer's scope."""
    return case_search.CaseSearch(
        criteria=filters,
        scope=case_scope(viewer),
        message_scope=message_scope(viewer),
        grid_codes=tree.subtree(filters.grid) if filters.grid and filters.grid != "-" else None,
        now=now,
        tz=tz,
        confidence_threshold=confidence_threshold,
    )


def staff_names(session: Session, ids: set[int]) -> dict[int, Staff]:
    """These staff records by id."""
    return directory.staff_by_ids(session, ids)


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
    search = case_search_for(viewer, filters, tree, now=now, tz=tz, confidence_threshold=confidence_threshold)
    cases, total, page, pages = case_search.page_of_cases(session, search, page_size=page_size)
    return CasePage(rows=to_rows(session, cases, tree, now), total=total, page=page, pages=pages)
