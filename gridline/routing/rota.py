"""Duty rotas: who is on duty in a grid at a moment, in the rota's local time zone.

A :class:`~gridline.storage.models.DutyShift` is either a weekly shift (weekday, start, end in local
wall-clock time; an end not after the start crosses midnight) or an iCalendar recurrence (RRULE,
local DTSTART, duration). Occurrences are turned into UTC intervals and compared in UTC, so a night
shift over a DST change lasts 7 or 9 real hours, as the clock on the wall says. Overrides then apply
in order of their start: ``leave`` removes a person, ``swap`` puts someone in a person's place,
``cover`` adds someone (or replaces ``replaces_staff_code`` when given).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr
from sqlmodel import Session

from gridline.storage import directory, directory_cache
from gridline.storage.models import DutyOverride, DutyShift, Staff

WEEK = timedelta(days=7)


def parse_hhmm(value: str) -> time:
    """``08:00`` → 08:00; ``24:00`` means the end of the day and is read as midnight."""
    hours, _, minutes = value.strip().partition(":")
    h, m = int(hours), int(minutes or 0)
    if h == 24 and m == 0:
        return time(0, 0)
    return time(h, m)


def local_to_utc(day: date, at: time, zone: ZoneInfo) -> datetime:
    """A local wall-clock time as UTC. A time skipped by spring-forward is read with the earlier
    offset (02:30 on the change night becomes 03:30 local), an ambiguous one as its first occurrence."""
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


@dataclass(frozen=True)
class ShiftOccurrence:
    start: datetime  # UTC
    end: datetime  # UTC
    grid_code: str
    staff_code: str
    role: str
    shift_id: int | None


def occurrences(shift: DutyShift, start: datetime, end: datetime, zone: ZoneInfo) -> Iterator[ShiftOccurrence]:
    """The occurrences of ``shift`` overlapping the UTC interval [start, end)."""
    if shift.rrule and shift.dtstart_local and shift.duration_minutes:
        yield from _rrule_occurrences(shift, start, end, zone)
        return
    if shift.weekday is None or not shift.start or not shift.end:
        return
    begin_t, end_t = parse_hhmm(shift.start), parse_hhmm(shift.end)
    crosses_midnight = end_t <= begin_t
    # Local days whose shift could overlap: one day of slack on each side covers midnight and offsets.
    first_day = start.astimezone(zone).date() - timedelta(days=1)
    last_day = end.astimezone(zone).date()
    day = first_day + timedelta(days=(shift.weekday - first_day.weekday()) % 7)
    while day <= last_day:
        if _valid_on(shift, day):
            occ_start = local_to_utc(day, begin_t, zone)
            occ_end = local_to_utc(day + timedelta(days=1) if crosses_midnight else day, end_t, zone)
            if occ_start < end and occ_end > start:
                yield ShiftOccurrence(occ_start, occ_end, shift.grid_code, shift.staff_code, shift.role, shift.id)
        day += timedelta(days=7)


def _valid_on(shift: DutyShift, day: date) -> bool:
    if shift.valid_from and day < shift.valid_from:
        return False
    return not (shift.valid_until and day > shift.valid_until)


def _rrule_occurrences(shift: DutyShift, start: datetime, end: datetime, zone: ZoneInfo) -> Iterator[ShiftOccurrence]:
    assert shift.rrule and shift.dtstart_local and shift.duration_minutes
    dtstart = datetime.fromisoformat(shift.dtstart_local).replace(tzinfo=None)
    duration = timedelta(minutes=shift.duration_minutes)
    rule = rrulestr(shift.rrule, dtstart=dtstart, ignoretz=True, forceset=True)
    # The rule runs in local wall-clock time (naive); widen the window by a day for offsets.
    window_start = start.astimezone(zone).replace(tzinfo=None) - duration - timedelta(days=1)
    window_end = end.astimezone(zone).replace(tzinfo=None) + timedelta(days=1)
    for local_start in rule.between(window_start, window_end, inc=True):
        if not _valid_on(shift, local_start.date()):
            continue
        local_end = local_start + duration
        occ_start = local_to_utc(local_start.date(), local_start.time(), zone)
        occ_end = local_to_utc(local_end.date(), local_end.time(), zone)
        if occ_start < end and occ_end > start:
            yield ShiftOccurrence(occ_start, occ_end, shift.grid_code, shift.staff_code, shift.role, shift.id)


def scheduled_on_duty(shifts: Sequence[DutyShift], at: datetime, zone: ZoneInfo) -> list[str]:
    """Staff codes whose shift covers ``at`` (before overrides), earliest shift start first."""
    at_utc = at.astimezone(UTC)
    hits: list[tuple[datetime, int, str]] = []
    for shift in shifts:
        for occ in occurrences(shift, at_utc, at_utc + timedelta(microseconds=1), zone):
            hits.append((occ.start, shift.id or 0, shift.staff_code))
    ordered: list[str] = []
    for _, _, code in sorted(hits):
        if code not in ordered:
            ordered.append(code)
    return ordered


def apply_overrides(codes: list[str], overrides: Sequence[DutyOverride]) -> list[str]:
    """Apply the overrides in force (already filtered to the moment) in order of their start."""
    result = list(codes)
    for override in sorted(overrides, key=lambda o: (o.starts_at, o.id or 0)):
        if override.kind == "leave":
            person = override.replaces_staff_code or override.staff_code
            result = [c for c in result if c != person]
        elif override.kind in ("swap", "cover") and override.staff_code:
            newcomer = override.staff_code
            replaced = override.replaces_staff_code
            if replaced:
                if replaced in result:
                    result = [newcomer if c == replaced else c for c in result]
                elif override.kind == "cover":
                    result.append(newcomer)  # covering someone already absent still staffs the role
            elif override.kind == "swap":
                result = [newcomer]  # a swap with nobody named takes the whole role over
            else:
                result.append(newcomer)
            result = list(dict.fromkeys(result))
    return result


def on_duty_codes(session: Session, grid_code: str, at: datetime, tz: str, role: str = "primary") -> list[str]:
    """Codes of the staff on duty (overrides applied), in order; see :func:`who_is_on_duty`."""
    if at.tzinfo is None:
        raise ValueError("who_is_on_duty needs an aware datetime")
    zone = ZoneInfo(tz)
    at_utc = at.astimezone(UTC)
    # From the process's rota snapshot when it is current (one token read per unit of work), else
    # from the database: a rota change committed anywhere is seen by the next unit of work.
    snapshot = directory_cache.people(session)
    if snapshot is None:
        shifts, overrides = directory_cache.rota(session, grid_code, role, at_utc)
        return apply_overrides(scheduled_on_duty(shifts, at_utc, zone), overrides)
    # The answer changes only where a shift occurrence or an override starts or ends: remembered
    # with the snapshot (a rota change is a new token, so a new snapshot) for the UTC interval up
    # to the next such moment, it is worked out about once per shift change instead of twice per report.
    key = (grid_code, role, tz)
    known = snapshot.on_duty.get(key)
    if known is not None and known[0] <= at_utc < known[1]:
        return list(known[2])
    codes, until = on_duty_until(snapshot.shifts.get((grid_code, role), ()),
                                 snapshot.overrides.get((grid_code, role), ()), at_utc, zone)
    snapshot.on_duty[key] = (at_utc, until, tuple(codes))
    return codes


# How far ahead ``on_duty_until`` looks for the next change (the answer is re-worked at least this often).
ON_DUTY_HORIZON = timedelta(days=1)


def on_duty_until(
    shifts: Sequence[DutyShift], overrides: Sequence[DutyOverride], at: datetime, zone: ZoneInfo
) -> tuple[list[str], datetime]:
    """Who is on duty at ``at`` (UTC; ``overrides``: all of the rota's, in force or not) as
    :func:`scheduled_on_duty` then :func:`apply_overrides` say, and until when that holds: the first
    moment after ``at`` where an occurrence or an override starts or ends (at most ``ON_DUTY_HORIZON``
    later). Over [at, until) the same occurrences and overrides cover every moment, in the same
    order, so the answer is the same."""
    end = at + ON_DUTY_HORIZON
    until = end
    hits: list[tuple[datetime, int, str]] = []
    for shift in shifts:
        for occ in occurrences(shift, at, end, zone):
            if occ.start <= at:  # it overlaps [at, end), so it ends after at: it covers at
                hits.append((occ.start, shift.id or 0, shift.staff_code))
                until = min(until, occ.end)
            else:
                until = min(until, occ.start)
    in_force: list[DutyOverride] = []
    for override in overrides:
        if override.starts_at <= at < override.ends_at:
            in_force.append(override)
            until = min(until, override.ends_at)
        elif override.starts_at > at:
            until = min(until, override.starts_at)
    ordered: list[str] = []
    for _, _, code in sorted(hits):
        if code not in ordered:
            ordered.append(code)
    return apply_overrides(ordered, in_force), until


def who_is_on_duty(session: Session, grid_code: str, at: datetime, tz: str, role: str = "primary") -> list[Staff]:
    """The active staff on duty for ``role`` in ``grid_code`` at ``at`` (aware), in order.

    ``tz`` is the rota's time zone (``settings.timezone``); ``role`` is ``primary`` or ``backup`` for
    base grids, ``supervisor`` for the supervisors' rota (see :func:`supervisors_on_duty`).
    """
    codes = on_duty_codes(session, grid_code, at, tz, role)
    if not codes:
        return []
    by_code = directory_cache.active_staff_by_codes(session, codes)
    return [by_code[c] for c in codes if c in by_code]


def supervisors_on_duty(session: Session, grid_chain: Sequence[str], at: datetime, tz: str) -> list[Staff]:
    """On-duty supervisors for a grid.

    ``grid_chain`` is the grid then its ancestors (empty for a case without a grid). The supervisor
    rota (role ``supervisor``) of the nearest grid in the chain that has someone on duty wins, then
    the platform-wide rota (grid code ``*``); when no rota has anyone on duty, every active
    supervisor is returned, so a hole in the rota never swallows a case.
    """
    for code in [*grid_chain, "*"]:
        staff = who_is_on_duty(session, code, at, tz, role="supervisor")
        if staff:
            return staff
    return directory.active_by_role_by_code(session, "supervisor")


def shifts_for_staff(
    session: Session, staff_code: str, start: datetime, end: datetime, tz: str
) -> list[tuple[datetime, datetime, str, str]]:
    """A person's duty between ``start`` and ``end``: (start_utc, end_utc, grid_code, role), by start.

    Their own shifts minus any leave or swap that takes them off, plus the time they swap in or
    cover for someone (the covered person's shifts within the override, or the override itself).
    """
    zone = ZoneInfo(tz)
    start_utc, end_utc = start.astimezone(UTC), end.astimezone(UTC)
    own = directory.shifts_of(session, staff_code)
    intervals: list[tuple[datetime, datetime, str, str]] = [
        (o.start, o.end, o.grid_code, o.role) for s in own for o in occurrences(s, start_utc, end_utc, zone)
    ]
    overrides = directory.overrides_overlapping(session, start_utc, end_utc)
    for override in overrides:
        away = override.kind == "leave" and (override.replaces_staff_code or override.staff_code) == staff_code
        swapped_out = override.kind in ("swap", "cover") and override.replaces_staff_code == staff_code
        if away or swapped_out:
            intervals = _subtract(intervals, override)
    for override in overrides:
        if override.kind not in ("swap", "cover") or override.staff_code != staff_code:
            continue
        lo, hi = max(override.starts_at, start_utc), min(override.ends_at, end_utc)
        if override.replaces_staff_code:
            covered = directory.shifts_of(
                session, override.replaces_staff_code, grid_code=override.grid_code, role=override.role
            )
            pieces = [(max(o.start, lo), min(o.end, hi)) for s in covered for o in occurrences(s, lo, hi, zone)]
            if not pieces and override.kind == "cover":
                pieces = [(lo, hi)]
        else:
            pieces = [(lo, hi)]
        intervals.extend((a, b, override.grid_code, override.role) for a, b in pieces if a < b)
    return sorted(set(intervals))


def covered_for(
    session: Session, staff_code: str, shifts: Sequence[tuple[datetime, datetime, str, str]]
) -> dict[tuple[datetime, datetime, str, str], str]:
    """Which of ``shifts`` (from :func:`shifts_for_staff`) the person holds in someone's place (a
    ``swap`` or a ``cover`` with ``replaces_staff_code``): that shift → the replaced person's code."""
    if not shifts:
        return {}
    overrides = [
        o for o in directory.overrides_overlapping(session, min(s[0] for s in shifts), max(s[1] for s in shifts))
        if o.kind in ("swap", "cover") and o.staff_code == staff_code and o.replaces_staff_code
    ]
    found: dict[tuple[datetime, datetime, str, str], str] = {}
    for shift in shifts:
        start, _, grid, role = shift
        for o in overrides:
            if o.grid_code == grid and o.role == role and o.starts_at <= start < o.ends_at:
                found[shift] = o.replaces_staff_code or ""
    return found


def handed_over(
    session: Session, staff_code: str, start: datetime, end: datetime, tz: str
) -> list[tuple[tuple[datetime, datetime, str, str], str]]:
    """The person's own shifts between ``start`` and ``end`` that someone else holds in their place
    (a ``swap`` or a ``cover`` replacing them: a /cover): ((start_utc, end_utc, grid, role), who's
    code), by start — what :func:`shifts_for_staff` subtracted for them."""
    zone = ZoneInfo(tz)
    start_utc, end_utc = start.astimezone(UTC), end.astimezone(UTC)
    found: list[tuple[tuple[datetime, datetime, str, str], str]] = []
    for override in directory.overrides_overlapping(session, start_utc, end_utc):
        if override.kind not in ("swap", "cover") or override.replaces_staff_code != staff_code:
            continue
        lo, hi = max(override.starts_at, start_utc), min(override.ends_at, end_utc)
        own = directory.shifts_of(session, staff_code, grid_code=override.grid_code, role=override.role)
        for occurrence in (o for shift in own for o in occurrences(shift, lo, hi, zone)):
            a, b = max(occurrence.start, lo), min(occurrence.end, hi)
            if a < b and override.staff_code:
                found.append(((a, b, override.grid_code, override.role), override.staff_code))
    return sorted(set(found))


def _subtract(
    intervals: list[tuple[datetime, datetime, str, str]], override: DutyOverride
) -> list[tuple[datetime, datetime, str, str]]:
    out: list[tuple[datetime, datetime, str, str]] = []
    for a, b, grid, role in intervals:
        if grid != override.grid_code or role != override.role or b <= override.starts_at or a >= override.ends_at:
            out.append((a, b, grid, role))
            continue
        if a < override.starts_at:
            out.append((a, override.starts_at, grid, role))
        if b > override.ends_at:
            out.append((override.ends_at, b, grid, role))
    return out
