"""The dashboard as data: one period, the one before it, and the drill-down query of each figure."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session

from gridline.console.access import Viewer
from gridline.console.case_list import staff_names
from gridline.console.filters import parse_date
from gridline.console.grids import GridTree
from gridline.console.metrics import (
    CaseFact,
    Comparison,
    DailyCounts,
    Period,
    compare_groups,
    expected_solve_rates,
    load_facts,
    per_day_by_category,
    summarise,
)
from gridline.edge.text import ascii_int

MAX_DAYS = 366
TRIAGE_KEY = "-"


def choose_period(params: Mapping[str, str], today: date) -> Period:
    """``from``/``to`` when given (at most a year; the wrong way round, the right way round), else the
    last ``days`` days (7 by default) up to today."""
    start, end = parse_date(params.get("from")), parse_date(params.get("to"))
    if start and end:
        start, end = min(start, end), max(start, end)
        return Period(max(start, end - timedelta(days=MAX_DAYS - 1)), end)
    days_text = params.get("days", "7")
    days = min(max(ascii_int(days_text) or 7, 1), MAX_DAYS)
    return Period(today - timedelta(days=days - 1), today)


@dataclass
class Dashboard:
    period: Period
    previous: Period
    level: int
    overall: Comparison
    by_grid: list[Comparison]
    by_leader: list[Comparison]
    by_category: list[Comparison]
    # Per leader: the 解决率 expected from their mix of categories (metrics.expected_solve_rates).
    leader_expected: dict[str, float]
    daily: DailyCounts
    leader_codes: dict[str, str]  # staff id (as text) → staff code, for drill-down links

    def drill(self, **extra: str) -> dict[str, str]:
        """The case-list query behind a figure of the current period."""
        query = {"from": self.period.start.isoformat(), "to": self.period.end.isoformat(), "merged": "exclude"}
        query.update({k: v for k, v in extra.items() if v})
        return query


def build_dashboard(
    session: Session,
    viewer: Viewer,
    tree: GridTree,
    *,
    period: Period,
    level: int,
    now: datetime,
    tz: ZoneInfo,
    triage_label: str,
    category_label: Callable[[str], str] = str,
) -> Dashboard:
    current = load_facts(session, viewer, period, tz)
    previous = load_facts(session, viewer, period.previous(), tz)

    def grid_key(fact: CaseFact) -> Hashable | None:
        if fact.grid_code is None:
            return TRIAGE_KEY
        return tree.at_level(fact.grid_code, level) or fact.grid_code

    def grid_label(key: Hashable) -> str:
        return triage_label if key == TRIAGE_KEY else tree.name(str(key))

    people = staff_names(session, {f.staff_id for f in [*current, *previous] if f.staff_id is not None})

    def leader_label(key: Hashable) -> str:
        staff = people.get(int(str(key)))
        return staff.name if staff else str(key)

    return Dashboard(
        period=period,
        previous=period.previous(),
        level=level,
        overall=Comparison("all", "", summarise(current, now), summarise(previous, now)),
        by_grid=compare_groups(current, previous, grid_key, grid_label, now),
        by_leader=compare_groups(current, previous, lambda f: f.staff_id, leader_label, now),
        by_category=compare_groups(current, previous, lambda f: f.category, lambda k: category_label(str(k)), now),
        leader_expected=expected_solve_rates(current, lambda f: f.staff_id),
        daily=per_day_by_category(current, period, tz),
        leader_codes={str(sid): s.code for sid, s in people.items()},
    )
