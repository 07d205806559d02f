"""What the check-in measures read (console dashboards, ``routing.checkin_measures``): daily
check-ins over a span and the cases they opened. Read-only; the rows are written by
``storage.checkins``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session, col, select

from gridline.storage.bulk import chunks
from gridline.storage.models import Case, CheckIn


def daily_since(session: Session, since: datetime, grid_codes: frozenset[str] | None = None) -> list[CheckIn]:
    """Daily check-ins due since ``since`` (of these grids; None = every grid)."""
    query = select(CheckIn).where(CheckIn.kind == "daily", col(CheckIn.due_at) >= since)
    if grid_codes is not None:
        query = query.where(col(CheckIn.grid_code).in_(sorted(grid_codes)))
    return list(session.exec(query))


def daily_between(
    session: Session, lo: datetime, hi: datetime, grid_codes: frozenset[str] | None = None
) -> list[CheckIn]:
    """Daily check-ins due in [lo, hi) (of these grids; None = every grid)."""
    query = select(CheckIn).where(CheckIn.kind == "daily", col(CheckIn.due_at) >= lo, col(CheckIn.due_at) < hi)
    if grid_codes is not None:
        query = query.where(col(CheckIn.grid_code).in_(sorted(grid_codes)))
    return list(session.exec(query))


def urgent_case_ids(session: Session, case_ids: Sequence[int]) -> set[int]:
    """Those of these cases opened urgent."""
    found: set[int] = set()
    for batch in chunks(list(case_ids)):
        query = select(Case.id).where(col(Case.id).in_(list(batch)), Case.priority == "urgent")
        found.update(case_id for case_id in session.exec(query) if case_id is not None)
    return found


def case_acknowledged_at(session: Session, case_ids: Sequence[int]) -> dict[int, datetime]:
    found: dict[int, datetime] = {}
    for batch in chunks(list(case_ids)):
        for case_id, at in session.exec(select(Case.id, Case.acknowledged_at).where(col(Case.id).in_(list(batch)))):
            if at is not None and case_id is not None:
                found[case_id] = at
    return found
