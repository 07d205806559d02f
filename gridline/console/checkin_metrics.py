"""平安守护 figures for the dashboard and its CSV, per base grid: check-ins asked, answered (the response
rate), minutes from the first silent window to a person going to the door (median and p90), and the
urgent cases the check-ins opened.

Over the daily check-ins due in the period (and in the previous one), the viewer's roster scope only.
Computed in Python from the rows (the same arithmetic as ``routing.checkins.measures``), so SQLite and
PostgreSQL agree.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session

from gridline.clock import local_day_bounds
from gridline.console.access import Viewer
from gridline.console.grids import GridTree
from gridline.console.metrics import Period, percentile
from gridline.console.roster_access import roster_scope
from gridline.routing.checkins import door_minutes
from gridline.storage import checkin_measures as store
from gridline.storage.models import CheckIn


@dataclass(frozen=True)
class CheckInFigures:
    asked: int  # check-ins asked (due in the period)
    answered: int  # of those, answered (ok or help, however late)
    door_median: float | None  # minutes from the first silent window to a person going to the door
    door_p90: float | None
    urgent: int  # urgent cases the check-ins opened

    @property
    def response_rate(self) -> float | None:
        return self.answered / self.asked if self.asked else None


@dataclass(frozen=True)
class CheckInRow:
    key: str
    label: str
    current: CheckInFigures
    previous: CheckInFigures


@dataclass(frozen=True)
class CheckInBoard:
    overall: CheckInRow
    by_grid: list[CheckInRow]


def _figures(rows: Iterable[CheckIn], acks: dict[int, datetime], urgent: set[int]) -> CheckInFigures:
    asked = [c for c in rows if c.asked_at is not None]
    door = [m for m in (door_minutes(c, acks) for c in asked) if m is not None]
    return CheckInFigures(
        asked=len(asked), answered=sum(1 for c in asked if c.answered_at is not None),
        door_median=percentile(door, 50), door_p90=percentile(door, 90),
        urgent=sum(1 for c in asked if c.case_id is not None and c.case_id in urgent),
    )  # fmt: skip


def build_checkin_board(
    session: Session, viewer: Viewer, tree: GridTree, *, period: Period, previous: Period, tz: ZoneInfo,
    overall_label: str,
) -> CheckInBoard:
    """The 平安守护 figures of the grids the viewer's roster scope covers, this period and the one before."""
    scope = roster_scope(session, viewer, tree)
    spans: dict[str, list[CheckIn]] = {}
    for name, span in (("current", period), ("previous", previous)):
        lo, hi = local_day_bounds(span.start, span.end, tz)
        assert lo is not None and hi is not None
        spans[name] = store.daily_between(session, lo, hi, scope.grid_codes)
    everyone = [*spans["current"], *spans["previous"]]
    case_ids = [c.case_id for c in everyone if c.case_id is not None]
    acks = store.case_acknowledged_at(session, case_ids)
    urgent = store.urgent_case_ids(session, case_ids)
    grids: dict[str, dict[str, list[CheckIn]]] = defaultdict(lambda: {"current": [], "previous": []})
    for name, rows in spans.items():
        for c in rows:
            grids[c.grid_code][name].append(c)

    def row(key: str, label: str, current: list[CheckIn], before: list[CheckIn]) -> CheckInRow:
        return CheckInRow(key, label, _figures(current, acks, urgent), _figures(before, acks, urgent))

    by_grid = [row(code, tree.name(code), g["current"], g["previous"]) for code, g in grids.items()]
    by_grid.sort(key=lambda r: (r.current.response_rate if r.current.response_rate is not None else 2.0, r.key))
    return CheckInBoard(overall=row("all", overall_label, spans["current"], spans["previous"]), by_grid=by_grid)
