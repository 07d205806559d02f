"""Importing a rota from iCalendar (``.ics``): one VEVENT per recurring shift, usually with an RRULE.

Who, where and which role, for each event, first found wins:
- grid:  the event's ``X-GRIDLINE-GRID``, the calendar's ``X-GRIDLINE-GRID``, then ``--grid``;
- role:  the event's ``X-GRIDLINE-ROLE``, the calendar's ``X-GRIDLINE-ROLE``, then ``--role`` (primary);
- staff: the event's ``X-GRIDLINE-STAFF``, else the ``SUMMARY`` as a staff code, else as a staff
  name (must be unique) — so an exported team calendar whose events are titled with people's names
  imports with ``--grid`` alone.
Times: ``DTSTART``/``DTEND`` (or ``DURATION``) in any zone are converted to the rota's zone; the RRULE
(and any EXDATE) then runs in the rota's local wall-clock time, like the CSV shifts.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr
from icalendar import Calendar

from gridline.importers import ImportFailed, ImportProblem, ImportSummary, Invalid
from gridline.importers.rota import known_codes, replace_shifts, role_problem, shift_values
from gridline.storage import directory
from gridline.storage.db import Database
from gridline.storage.models import DutyShift


def _local(value: Any, zone: ZoneInfo) -> datetime:
    """A DTSTART/DTEND value as naive local wall-clock time in the rota's zone."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            return value.astimezone(zone).replace(tzinfo=None)
        return value  # floating time: already local
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    raise Invalid("directory.rota.bad_time_value", value=repr(value))


def import_ics(
    db: Database,
    data: bytes,
    *,
    tz: str,
    name: str = "calendar.ics",
    default_grid: str | None = None,
    default_role: str = "primary",
) -> ImportSummary:
    """Validate every VEVENT, then replace the grids' iCalendar shifts in one transaction."""
    zone = ZoneInfo(tz)
    try:
        calendar = Calendar.from_ical(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ImportFailed(name, [ImportProblem.in_file(name, "directory.rota.bad_ics", error=str(exc))]) from None
    cal_grid = str(calendar.get("X-GRIDLINE-GRID") or "") or default_grid
    cal_role = str(calendar.get("X-GRIDLINE-ROLE") or "") or default_role
    events = list(calendar.walk("VEVENT"))
    if not events:
        raise ImportFailed(name, [ImportProblem.in_file(name, "directory.rota.no_events")])
    problems: list[ImportProblem] = []
    shifts: list[DutyShift] = []
    with db.session() as session:
        grids, staff_codes = known_codes(session)
        names: dict[str, list[str]] = {}
        for person in directory.all_staff(session):
            names.setdefault(person.name, []).append(person.code)
        for number, event in enumerate(events, start=1):
            summary = str(event.get("SUMMARY") or "").strip()
            where = {"number": number, "summary": summary or str(event.get("UID") or "-")}
            errors: list[Invalid] = []
            grid = str(event.get("X-GRIDLINE-GRID") or "") or cal_grid
            role = (str(event.get("X-GRIDLINE-ROLE") or "") or cal_role).lower()
            staff = str(event.get("X-GRIDLINE-STAFF") or "").strip()
            if not staff:
                if summary in staff_codes:
                    staff = summary
                elif len(names.get(summary, [])) == 1:
                    staff = names[summary][0]
                elif summary in names:
                    errors.append(Invalid("directory.rota.ambiguous_name", name=summary))
            if not grid:
                errors.append(Invalid("directory.rota.no_grid"))
            elif grid not in grids:
                errors.append(Invalid("directory.rota.unknown_grid", code=grid))
            if staff and staff not in staff_codes:
                errors.append(Invalid("directory.rota.unknown_staff", code=staff))
            elif not staff and not errors:
                errors.append(Invalid("directory.rota.no_staff", summary=summary))
            if problem := role_problem(grid or "", role):
                errors.append(problem)
            try:
                shift = _shift_from_event(event, zone)
            except Invalid as exc:
                errors.append(exc)
            if errors:
                problems.extend(ImportProblem("directory.where.event", where, e.key, e.params) for e in errors)
                continue
            shift.grid_code, shift.staff_code, shift.role = grid or "", staff, role
            shifts.append(shift)
        if problems:
            raise ImportFailed(name, problems)
        result = ImportSummary("shifts_ics", name)
        result.removed = replace_shifts(session, [shift_values(s) for s in shifts], source="ics")
        result.created = len(shifts)
    return result


def _shift_from_event(event: Any, zone: ZoneInfo) -> DutyShift:
    if event.get("DTSTART") is None:
        raise Invalid("directory.rota.no_dtstart")
    start = _local(event.decoded("DTSTART"), zone)
    if event.get("DTEND") is not None:
        end = _local(event.decoded("DTEND"), zone)
    elif event.get("DURATION") is not None:
        end = start + event.decoded("DURATION")
    else:
        raise Invalid("directory.rota.no_end")
    minutes = int((end - start) / timedelta(minutes=1))
    if minutes <= 0:
        raise Invalid("directory.rota.ends_first")
    if minutes > 7 * 24 * 60:
        raise Invalid("directory.rota.too_long")
    rule_text = event.get("RRULE").to_ical().decode() if event.get("RRULE") is not None else "FREQ=DAILY;COUNT=1"
    lines = [f"RRULE:{rule_text}"]
    exdates = event.get("EXDATE")
    for exdate in exdates if isinstance(exdates, list) else [exdates] if exdates is not None else []:
        for item in exdate.dts:
            lines.append(f"EXDATE:{_local(item.dt, zone):%Y%m%dT%H%M%S}")
    text = "\n".join(lines)
    try:
        rrulestr(text, dtstart=start, ignoretz=True, forceset=True)
    except (ValueError, TypeError) as exc:
        raise Invalid("directory.rota.bad_rrule", rule=rule_text, error=str(exc)) from None
    if len(text) > 500:
        raise Invalid("directory.rota.rrule_too_long")
    return DutyShift(grid_code="", staff_code="", rrule=text, dtstart_local=start.isoformat(),
                     duration_minutes=minutes, source="ics")  # fmt: skip
