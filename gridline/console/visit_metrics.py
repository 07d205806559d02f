"""走千家 figures for the dashboard and its CSV: visit coverage per grid and per member, overdue visits.

Coverage is over the visits that fell due in the period: how many were made (at all, and by their
deadline). Overdue counts the visits still owed whose deadline has passed, now. The share of cases
found proactively is a case figure (``metrics.Summary.proactive_share``). Computed in Python from
the rows, so SQLite and PostgreSQL agree.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session

from gridline.clock import local_day_bounds
from gridline.console.access import Viewer
from gridline.console.grids import GridTree
from gridline.console.metrics import Period
from gridline.console.roster_access import roster_scope
from gridline.storage import directory
from gridline.storage import visits as store
from gridline.storage.models import Visit


@dataclass(frozen=True)
class VisitFigures:
    key: str
    label: str
    due: int  # fell due in the period (so far), or made in it
    done: int  # of those, made (logged)
    on_time: int  # of those, made by their deadline
    problems: int  # of those made, a problem found (a 主动发现 case)
    overdue: int  # still owed now, past the deadline (whenever it fell due)

    @property
    def coverage(self) -> float | None:
        return self.done / self.due if self.due else None

    @property
    def on_time_share(self) -> float | None:
        return self.on_time / self.due if self.due else None


@dataclass(frozen=True)
class VisitBoard:
    overall: VisitFigures
    by_grid: list[VisitFigures]
    by_member: list[VisitFigures]


def _figures(key: str, label: str, due: Iterable[Visit], overdue: int) -> VisitFigures:
    due = list(due)
    done = [v for v in due if v.status == "done"]
    return VisitFigures(
        key=key, label=label, due=len(due), done=len(done),
        on_time=sum(1 for v in done if v.done_at is not None and v.done_at <= v.due_at),
        problems=sum(1 for v in done if v.outcome == "problem"), overdue=overdue,
    )  # fmt: skip


def _grouped(
    due: list[Visit], late: list[Visit], key: Callable[[Visit], Hashable | None], label: Callable[[Hashable], str]
) -> list[VisitFigures]:
    groups: dict[Hashable, list[Visit]] = defaultdict(list)
    overdue: dict[Hashable, int] = defaultdict(int)
    for visit in due:
        k = key(visit)
        if k is not None:
            groups[k].append(visit)
    for visit in late:
        k = key(visit)
        if k is not None:
            overdue[k] += 1
            groups.setdefault(k, [])
    rows = [_figures(str(k), label(k), groups[k], overdue.get(k, 0)) for k in groups]
    return sorted(rows, key=lambda r: (-(r.overdue), r.coverage if r.coverage is not None else 2.0, r.label))


def build_visit_board(
    session: Session, viewer: Viewer, tree: GridTree, *, period: Period, now: datetime, tz: ZoneInfo,
    overall_label: str, nobody_label: str,
) -> VisitBoard:
    """The 走千家 figures of the grids the viewer's roster scope covers."""
    scope = roster_scope(session, viewer, tree)
    lo, hi = local_day_bounds(period.start, period.end, tz)
    assert lo is not None and hi is not None
    due = store.owed_in_period(session, lo, hi, now, scope.grid_codes)
    late = store.overdue(session, now, scope.grid_codes)
    names = directory.staff_names(session, {v.staff_id for v in [*due, *late] if v.staff_id is not None})

    def member(key: Hashable) -> str:
        return names.get(int(str(key)), nobody_label) if str(key).isdigit() else nobody_label

    return VisitBoard(
        overall=_figures("all", overall_label, due, len(late)),
        by_grid=_grouped(due, late, lambda v: v.grid_code, lambda k: tree.name(str(k))),
        by_member=_grouped(due, late, lambda v: v.staff_id if v.staff_id is not None else "-", member),
    )
