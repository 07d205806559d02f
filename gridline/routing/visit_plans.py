"""When a household's next visit is due (the strictest ``visits.cadence`` rule among its tags), who owes
it, and the visits planned: ``schedule_visit`` (one open visit per household; brought forward, never
pushed back), ``plan_next`` after a visit, ``plan_visits`` in batches for new households."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr
from sqlmodel import Session

from gridline.domain.lifecycle import StaffRole
from gridline.kernel.work import Work
from gridline.routing.deadlines import local_deadline
from gridline.routing.roster import tag_code
from gridline.routing.visit_states import EVERYONE, VisitStatus
from gridline.settings import Settings
from gridline.storage import directory
from gridline.storage import households as roster
from gridline.storage import visits as store
from gridline.storage.models import Household, Staff, Visit

PLAN_BATCH = 500


def _cadence(settings: Settings) -> dict[str, str]:
    """``visits.cadence`` keyed by tag code (a key may be a tag's label: ``独居老人 = "FREQ=WEEKLY"``)."""
    out: dict[str, str] = {}
    for key, rule in settings.visits.cadence.items():
        out[key if key == "default" else (tag_code(settings, key) or key)] = rule
    return out


def next_due(settings: Settings, tags: list[str], anchor: datetime) -> tuple[datetime, str] | None:
    """When a household with ``tags`` visited (or planned) at ``anchor`` is next due, and the rule's key.

    Each applicable rule (the household's tags, and ``default``) is run from the anchor's local day;
    its first occurrence after that day, at ``visits.due_time``, is a deadline; the earliest wins.
    """
    tz = ZoneInfo(settings.timezone)
    start = anchor.astimezone(tz).replace(tzinfo=None, hour=0, minute=0, second=0, microsecond=0)
    hour, minute = (int(part) for part in settings.visits.due_time.split(":"))
    cadence = _cadence(settings)
    best: tuple[datetime, str] | None = None
    for key in [*(tags or []), "default"]:
        rule = cadence.get(key)
        if not rule:
            continue
        occurrence = _first_after(rule, start)
        if occurrence is None:
            continue
        due = occurrence.replace(hour=hour, minute=minute).replace(tzinfo=tz).astimezone(UTC)
        if best is None or due < best[0]:
            best = (due, key)
    return best


@lru_cache(maxsize=4096)
def _first_after(rule: str, start: datetime) -> datetime | None:
    """The rule's first occurrence after the (naive, local) day ``start`` — cached: a sweep plans many
    households from the same day."""
    occurrence: datetime | None = rrulestr(rule, dtstart=start, ignoretz=True).after(start)  # type: ignore[union-attr]
    return occurrence


def assignee_for(
    session: Session, household: Household, *, cache: tuple[list[Staff], list[Staff]] | None = None
) -> Staff | None:
    """Who owes the household's visits: one of its grid's members (spread by household), else the leader."""
    members, leaders = cache if cache is not None else staff_of_cache(session, household.grid_code)
    if members:
        return members[(household.id or 0) % len(members)]
    return leaders[0] if leaders else None


def staff_of_cache(session: Session, grid_code: str) -> tuple[list[Staff], list[Staff]]:
    """The grid's active members (by id) and leaders."""
    members = sorted(
        directory.active_staff_in_grid(session, StaffRole.MEMBER.value, grid_code), key=lambda s: s.id or 0
    )
    return members, directory.active_staff_in_grid(session, StaffRole.LEADER.value, grid_code)


def schedule_visit(
    work: Work, household_id: int, due_at: datetime, reason: str, *, rule: str | None = None
) -> Visit | None:
    """A visit owed to the household by ``due_at`` (None if the household is not on the roster).

    At most one visit is open per household: if one is, it is brought forward to ``due_at`` when
    that is sooner (and never pushed back), so a sweep's "no answer → visit today" never doubles a
    visit already owed.
    """
    household = roster.get(work.session, EVERYONE, household_id)
    if household is None:
        return None
    existing = store.open_for_household(work.session, household_id)
    if existing is not None:
        if existing.status == VisitStatus.DUE and due_at < existing.due_at:
            before = existing.due_at
            existing.due_at, existing.next_at, existing.updated_at = due_at, due_at, work.now
            existing.reason = reason[:32]
            store.add_event(
                work.session, existing.id or 0, at=work.now, kind="brought_forward", actor="system",
                data={"reason": reason, "from": before.isoformat(), "to": due_at.isoformat()},
            )
            queue_timer(work, existing)
        return existing
    staff = assignee_for(work.session, household)
    visit = store.add(
        work.session,
        Visit(
            household_id=household_id,
            grid_code=household.grid_code,
            staff_id=staff.id if staff else None,
            status=VisitStatus.DUE.value,
            reason=reason[:32],
            rule=rule,
            due_at=due_at,
            next_at=due_at,
            created_at=work.now,
            updated_at=work.now,
        ),
    )
    store.add_event(
        work.session, visit.id or 0, at=work.now, kind="scheduled", actor="system",
        data={"reason": reason, "rule": rule, "due_at": due_at.isoformat(), "staff": staff.code if staff else None},
    )
    queue_timer(work, visit)
    return visit


def queue_timer(work: Work, visit: Visit) -> None:
    if visit.next_at is not None:
        work.job("run_visit_timer", f"visit:{visit.id}:{visit.step}", visit.next_at, visit_id=visit.id)


def plan_next(work: Work, settings: Settings, household: Household, anchor: datetime) -> Visit | None:
    due = next_due(settings, household.tags or [], anchor)
    if due is None:
        return None
    return schedule_visit(work, household.id or 0, due[0], "cadence", rule=due[1])


def plan_visits(work: Work, settings: Settings, limit: int = PLAN_BATCH) -> int:
    """A visit for every household on the roster that owes none (new households); returns how many.

    In batches (the sweep runs once a minute): the batch's last visits and each grid's members are
    read once, the new rows flushed together.
    """
    session = work.session
    households = store.unplanned_households(session, limit)
    if not households:
        return 0
    last = store.last_done_at(session, [h.id or 0 for h in households])
    staff_of: dict[str, tuple[list[Staff], list[Staff]]] = {}
    planned: list[tuple[Visit, str, Staff | None]] = []
    for household in households:
        due = next_due(settings, household.tags or [], last.get(household.id or 0, work.now))
        if due is None:
            continue
        if household.grid_code not in staff_of:
            staff_of[household.grid_code] = staff_of_cache(session, household.grid_code)
        staff = assignee_for(session, household, cache=staff_of[household.grid_code])
        visit = Visit(
            household_id=household.id or 0, grid_code=household.grid_code, staff_id=staff.id if staff else None,
            status=VisitStatus.DUE.value, reason="cadence", rule=due[1], due_at=due[0], next_at=due[0],
            created_at=work.now, updated_at=work.now,
        )  # fmt: skip
        session.add(visit)
        planned.append((visit, due[1], staff))
    session.flush()
    for visit, rule, staff in planned:
        store.add_event(
            session, visit.id or 0, at=work.now, kind="scheduled", actor="system",
            data={"reason": "cadence", "rule": rule, "due_at": visit.due_at.isoformat(),
                  "staff": staff.code if staff else None},
        )  # fmt: skip
        queue_timer(work, visit)
    return len(planned)



def local_date(settings: Settings, at: datetime) -> str:
    return at.astimezone(ZoneInfo(settings.timezone)).strftime("%Y-%m-%d")


def local_time(settings: Settings, at: datetime) -> str:
    """A visit's deadline as every text says it — the answer to a logged visit, the overdue notice,
    the digest, the reminder call — ``2026-12-10 20:00`` as the department loop's, a midnight 24:00
    of the day before (``deadlines.local_deadline``)."""
    return local_deadline(settings.timezone, at)
