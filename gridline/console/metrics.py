"""Dashboard figures: cases per day by category, time to acknowledge / resolve (median, p90), SLA
breach rate and residents' satisfaction, per grid and per leader, against the previous period.

The database returns only the few columns needed for the cases of a period (one scoped query); the
figures are computed here in Python, so SQLite and PostgreSQL give identical numbers. Percentiles use
the nearest-rank method: p90 is a time that 90 % of the cases met.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session

from gridline.clock import as_utc, local_day_bounds
from gridline.console.access import Viewer, case_scope
from gridline.storage import case_events, case_figures, directory


@dataclass(frozen=True)
class Period:
    """Local calendar days ``start``..``end``, both included."""

    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        return Period(self.start - timedelta(days=self.days), self.start - timedelta(days=1))

    def each_day(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range(self.days)]


@dataclass(frozen=True)
class CaseFact:
    """The columns of one case that the figures use."""

    id: int
    created_at: datetime
    category: str
    grid_code: str | None
    staff_id: int | None  # the responsible person: who acknowledged, else the assignee
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    ack_due_at: datetime | None
    resolve_due_at: datetime | None
    rating: int | None
    # The resident said it is solved (routing.closure) — what 解决率 counts, not the holder's word.
    confirmed: bool = False
    reopened: bool = False  # the resident said it was not solved
    withdrawn: bool = False  # the resident said the problem went away (routing.withdrawal)
    resolved_level: str | None = None  # base | level2 | level1 | department | supervisor
    proactive: bool = False  # 主动发现: found on a visit (routing.visits), not reported

    @property
    def tta(self) -> float | None:
        """Seconds from report to acknowledgement."""
        if self.acknowledged_at is None:
            return None
        return (self.acknowledged_at - self.created_at).total_seconds()

    @property
    def ttr(self) -> float | None:
        if self.resolved_at is None:
            return None
        return (self.resolved_at - self.created_at).total_seconds()

    @property
    def withdrawn_before_ack_limit(self) -> bool:
        """Withdrawn by the resident before anyone had to acknowledge it: no miss of 响应率."""
        return (
            self.withdrawn and self.acknowledged_at is None and self.closed_at is not None
            and self.ack_due_at is not None and self.closed_at <= self.ack_due_at
        )

    def resolve_late(self, now: datetime) -> bool:
        """Past the resolution deadline: resolved after it, or not resolved and it has passed."""
        finished = self.resolved_at or self.closed_at or now
        return self.resolve_due_at is not None and finished > self.resolve_due_at

    def breached(self, now: datetime) -> bool | None:
        """Whether an SLA deadline was missed (as of ``now``); None when the case had none."""
        if self.ack_due_at is None and self.resolve_due_at is None:
            return None
        ack_at = self.acknowledged_at or self.resolved_at or self.closed_at or now
        res_at = self.resolved_at or self.closed_at or now
        return bool(
            (self.ack_due_at is not None and ack_at > self.ack_due_at)
            or (self.resolve_due_at is not None and res_at > self.resolve_due_at)
        )


def load_facts(session: Session, viewer: Viewer, period: Period, tz: ZoneInfo) -> list[CaseFact]:
    """The facts of the cases the viewer may see that were reported during ``period``.

    Merged duplicates are left out: they are counted in the case they were merged into.
    """
    lo, hi = local_day_bounds(period.start, period.end, tz)
    assert lo is not None and hi is not None
    rows = case_figures.figure_columns(session, scope=case_scope(viewer), created_from=lo, created_before=hi)
    answers = resident_answers(session, [row.id for row in rows])
    levels = resolver_levels(session, {row.resolved_by for row in rows if row.resolved_by})
    facts = []
    for row in rows:
        facts.append(
            CaseFact(
                id=row.id,
                created_at=as_utc(row.created_at),
                category=row.category,
                grid_code=row.grid_code,
                staff_id=row.acknowledged_by or row.assignee_staff_id,
                acknowledged_at=as_utc(row.acknowledged_at) if row.acknowledged_at else None,
                resolved_at=as_utc(row.resolved_at) if row.resolved_at else None,
                closed_at=as_utc(row.closed_at) if row.closed_at else None,
                ack_due_at=as_utc(row.ack_due_at) if row.ack_due_at else None,
                resolve_due_at=as_utc(row.resolve_due_at) if row.resolve_due_at else None,
                rating=row.rating,
                confirmed="resident_confirmed" in answers.get(row.id, ()),
                reopened="reopened_by_resident" in answers.get(row.id, ()),
                withdrawn="withdrawn_by_resident" in answers.get(row.id, ()),
                resolved_level=levels.get(row.resolved_by) if row.resolved_by else None,
                proactive=bool(row.proactive),
            )
        )
    return facts


def resident_answers(session: Session, case_ids: list[int]) -> dict[int, set[str]]:
    """Per case, which of the resident's answers to "解决了吗？" are on its timeline."""
    return case_events.event_kinds_of(
        session, case_ids, ["resident_confirmed", "reopened_by_resident", "withdrawn_by_resident"]
    )


# Which level a case was resolved at, by the role of whoever resolved it ("小事不出社区").
LEVEL_OF_ROLE = {"leader": "base", "member": "base", "level2_contact": "level2", "level1_contact": "level1",
                 "department": "department", "supervisor": "supervisor"}  # fmt: skip
LEVELS = ("base", "level2", "level1", "department", "supervisor")


def resolver_levels(session: Session, staff_ids: set[int]) -> dict[int, str]:
    """The level each of these staff members resolves at, by their role."""
    return {sid: LEVEL_OF_ROLE.get(role, "base") for sid, role in directory.roles_by_id(session, staff_ids).items()}


def percentile(values: Sequence[float], p: float) -> float | None:
    """Nearest-rank percentile (``p`` in 0..100); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True)
class Summary:
    cases: int
    acknowledged: int
    tta_median: float | None
    tta_p90: float | None
    resolved: int
    ttr_median: float | None
    ttr_p90: float | None
    with_sla: int
    breached: int
    rated: int
    rating_mean: float | None
    satisfied: int  # rated 4 or 5
    # 三率: acknowledged within the limit; solved as the resident confirmed; 4–5 among rated.
    with_ack_limit: int = 0
    ack_in_time: int = 0
    confirmed: int = 0
    answered: int = 0  # the resident said solved or not solved
    overdue: int = 0  # past the resolution deadline, unresolved or resolved late
    levels: dict[str, int] = field(default_factory=dict)
    proactive: int = 0  # 主动发现

    @property
    def proactive_share(self) -> float | None:
        """Cases found proactively on visits, among all cases of the period."""
        return self.proactive / self.cases if self.cases else None

    @property
    def response_rate(self) -> float | None:
        return self.ack_in_time / self.with_ack_limit if self.with_ack_limit else None

    @property
    def solve_rate(self) -> float | None:
        """Cases the resident confirmed solved, among all cases of the period."""
        return self.confirmed / self.cases if self.cases else None

    @property
    def solve_coverage(self) -> float | None:
        """How many of the resolved cases the resident answered for."""
        return self.answered / self.resolved if self.resolved else None

    @property
    def satisfaction_coverage(self) -> float | None:
        return self.rated / self.resolved if self.resolved else None

    def resolved_at_level(self, level: str) -> int:
        return self.levels.get(level, 0)

    @property
    def breach_rate(self) -> float | None:
        return self.breached / self.with_sla if self.with_sla else None

    @property
    def satisfied_share(self) -> float | None:
        return self.satisfied / self.rated if self.rated else None


def summarise(facts: Iterable[CaseFact], now: datetime) -> Summary:
    facts = list(facts)
    tta = [f.tta for f in facts if f.tta is not None]
    ttr = [f.ttr for f in facts if f.ttr is not None]
    breaches = [b for b in (f.breached(now) for f in facts) if b is not None]
    ratings = [f.rating for f in facts if f.rating is not None]
    return Summary(
        cases=len(facts),
        acknowledged=len(tta),
        tta_median=statistics.median(tta) if tta else None,
        tta_p90=percentile(tta, 90),
        resolved=len(ttr),
        ttr_median=statistics.median(ttr) if ttr else None,
        ttr_p90=percentile(ttr, 90),
        with_sla=len(breaches),
        breached=sum(breaches),
        rated=len(ratings),
        rating_mean=statistics.fmean(ratings) if ratings else None,
        satisfied=sum(1 for r in ratings if r >= 4),
        with_ack_limit=sum(1 for f in facts if f.ack_due_at is not None and not f.withdrawn_before_ack_limit),
        ack_in_time=sum(
            1 for f in facts if f.ack_due_at is not None and f.acknowledged_at is not None
            and f.acknowledged_at <= f.ack_due_at
        ),
        confirmed=sum(1 for f in facts if f.confirmed),
        answered=sum(1 for f in facts if f.confirmed or f.reopened),
        overdue=sum(1 for f in facts if f.resolve_due_at is not None and f.resolve_late(now)),
        levels=dict(Counter(f.resolved_level for f in facts if f.resolved_level and f.resolved_at)),
        proactive=sum(1 for f in facts if f.proactive),
    )


@dataclass
class Comparison:
    """A group's summary now and in the previous period."""

    key: str
    label: str
    current: Summary
    previous: Summary


def compare_groups(
    current: Sequence[CaseFact],
    previous: Sequence[CaseFact],
    key: Callable[[CaseFact], Hashable | None],
    label: Callable[[Hashable], str],
    now: datetime,
) -> list[Comparison]:
    """One comparison per group present in either period, the busiest first."""
    now_groups: dict[Hashable, list[CaseFact]] = defaultdict(list)
    before_groups: dict[Hashable, list[CaseFact]] = defaultdict(list)
    for fact in current:
        k = key(fact)
        if k is not None:
            now_groups[k].append(fact)
    for fact in previous:
        k = key(fact)
        if k is not None:
            before_groups[k].append(fact)
    out = [
        Comparison(
            key=str(k),
            label=label(k),
            current=summarise(now_groups.get(k, []), now),
            previous=summarise(before_groups.get(k, []), now),
        )
        for k in set(now_groups) | set(before_groups)
    ]
    out.sort(key=lambda c: (-c.current.cases, -c.previous.cases, c.label))
    return out


@dataclass
class DailyCounts:
    days: list[date]
    categories: list[str]  # the most frequent first
    counts: dict[date, Counter[str]] = field(default_factory=dict)

    @property
    def max_total(self) -> int:
        return max((sum(c.values()) for c in self.counts.values()), default=0)


def per_day_by_category(facts: Iterable[CaseFact], period: Period, tz: ZoneInfo) -> DailyCounts:
    counts: dict[date, Counter[str]] = {day: Counter() for day in period.each_day()}
    overall: Counter[str] = Counter()
    for fact in facts:
        day = fact.created_at.astimezone(tz).date()
        if day in counts:
            counts[day][fact.category] += 1
            overall[fact.category] += 1
    categories = [c for c, _ in sorted(overall.items(), key=lambda kv: (-kv[1], kv[0]))]
    return DailyCounts(days=period.each_day(), categories=categories, counts=counts)


def expected_solve_rates(current: Sequence[CaseFact], key: Callable[[CaseFact], Hashable | None]) -> dict[str, float]:
    """Per group, the 解决率 it would have if each of its cases were solved at the overall rate of
    its category: whoever carries the hard categories is compared with that, not with everyone."""
    by_category: dict[str, list[CaseFact]] = defaultdict(list)
    for fact in current:
        by_category[fact.category].append(fact)
    rate = {c: sum(f.confirmed for f in fs) / len(fs) for c, fs in by_category.items()}
    groups: dict[str, list[float]] = defaultdict(list)
    for fact in current:
        k = key(fact)
        if k is not None:
            groups[str(k)].append(rate[fact.category])
    return {k: statistics.fmean(v) for k, v in groups.items()}
