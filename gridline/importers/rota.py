"""Importing duty rotas: weekly shifts (CSV) and overrides (CSV). iCalendar lives in ``ical``.

An import of shifts replaces the shifts of the same source (csv or ics) for the grids it names, so a
grid's rota can be re-imported whole; overrides are added (identical ones are skipped).
"""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

from sqlmodel import Session

from gridline.importers import (
    DEFAULT_MAX_BYTES,
    ImportFailed,
    ImportProblem,
    ImportSummary,
    Invalid,
    Source,
    read_source,
)
from gridline.importers.csvfile import read_csv
from gridline.importers.fields import parse_date, parse_hhmm, parse_local_datetime, parse_weekdays
from gridline.storage import directory
from gridline.storage.db import Database
from gridline.storage.models import DutyOverride, DutyShift

SHIFT_COLUMNS = ("grid_code", "staff_code", "role", "start", "end")
SHIFT_OPTIONAL = ("weekday", "weekdays", "valid_from", "valid_until")
OVERRIDE_COLUMNS = ("grid_code", "role", "kind", "starts_at", "ends_at")
OVERRIDE_OPTIONAL = ("staff_code", "replaces_staff_code", "reason")
ROTA_ROLES = ("primary", "backup", "supervisor")
# The supervisors' platform-wide rota uses this grid code.
PLATFORM_GRID = "*"
OVERRIDE_KINDS = ("leave", "swap", "cover")


def known_codes(session: Session) -> tuple[set[str], set[str]]:
    """Grid codes (plus ``*``, the platform) and staff codes in the database."""
    return directory.grid_codes(session) | {PLATFORM_GRID}, directory.staff_codes(session)


def role_problem(grid_code: str, role: str) -> Invalid | None:
    """Why ``role`` cannot be used on ``grid_code`` (None when it can)."""
    if role not in ROTA_ROLES:
        return Invalid("directory.rota.bad_role", role=role)
    if grid_code == PLATFORM_GRID and role != "supervisor":
        return Invalid("directory.rota.platform_role")
    return None


def import_rota(
    db: Database,
    source: Source,
    *,
    tz: str,
    max_bytes: int = DEFAULT_MAX_BYTES,
    name: str | None = None,
    default_grid: str | None = None,
    default_role: str = "primary",
) -> ImportSummary:
    """A rota file: iCalendar when it is one (``.ics`` or ``BEGIN:VCALENDAR``), weekly CSV otherwise."""
    data, label = read_source(source, max_bytes=max_bytes, name=name)
    suffix = Path(label).suffix.lower()
    if suffix in (".ics", ".ical", ".ifb") or data.lstrip(b"\xef\xbb\xbf \r\n").startswith(b"BEGIN:VCALENDAR"):
        from gridline.importers.ical import import_ics

        return import_ics(db, data, tz=tz, name=label, default_grid=default_grid, default_role=default_role)
    return import_shifts_csv(db, data, tz=tz, name=label)


def import_shifts_csv(db: Database, source: Source, *, tz: str, name: str | None = None,
                      max_bytes: int = DEFAULT_MAX_BYTES) -> ImportSummary:  # fmt: skip
    """Weekly shifts: ``grid_code, staff_code, role, weekday, start, end[, valid_from, valid_until]``."""
    ZoneInfo(tz)  # an unknown zone fails here, before anything is read
    table = read_csv(source, required=SHIFT_COLUMNS, optional=SHIFT_OPTIONAL, max_bytes=max_bytes, name=name)
    problems: list[ImportProblem] = []
    shifts: list[dict[str, object]] = []
    with db.session() as session:
        grids, staff = known_codes(session)
        for row in table.rows:
            grid_code, staff_code, role = row.get("grid_code"), row.get("staff_code"), row.get("role").lower()
            errors: list[ImportProblem] = []
            if grid_code not in grids:
                errors.append(row.problem("directory.rota.unknown_grid", code=grid_code))
            if staff_code not in staff:
                errors.append(row.problem("directory.rota.unknown_staff", code=staff_code))
            if problem := role_problem(grid_code, role):
                errors.append(row.invalid(problem))
            try:
                days = parse_weekdays(row.get("weekday") or row.get("weekdays"))
                start, end = parse_hhmm(row.get("start")), parse_hhmm(row.get("end"))
                valid_from, valid_until = parse_date(row.get("valid_from")), parse_date(row.get("valid_until"))
                if valid_from and valid_until and valid_until < valid_from:
                    errors.append(row.problem("directory.rota.valid_order"))
            except Invalid as exc:
                errors.append(row.invalid(exc))
            if errors:
                problems.extend(errors)
                continue
            for day in days:  # plain values: a big city's rota has 100,000s of shifts
                shifts.append({
                    "grid_code": grid_code, "staff_code": staff_code, "role": role, "weekday": day,
                    "start": start, "end": "00:00" if end == "24:00" else end,
                    "valid_from": valid_from, "valid_until": valid_until, "rrule": None, "dtstart_local": None,
                    "duration_minutes": None, "source": "csv",
                })  # fmt: skip
        if problems:
            raise ImportFailed(table.name, problems)
        summary = ImportSummary("shifts", table.name, encoding=table.encoding)
        summary.removed = replace_shifts(session, shifts, source="csv")
        summary.created = len(shifts)
    return summary


def replace_shifts(session: Session, shifts: list[dict[str, object]], *, source: str) -> int:
    """Delete the ``source`` shifts of the grids in ``shifts`` (column values) and insert ``shifts``;
    returns how many were deleted."""
    return directory.replace_shifts(session, shifts, source=source)


def shift_values(shift: DutyShift) -> dict[str, object]:
    """The column values of an unsaved shift, for :func:`replace_shifts`."""
    return {
        name: getattr(shift, name)
        for name in ("grid_code", "staff_code", "role", "weekday", "start", "end", "valid_from", "valid_until",
                     "rrule", "dtstart_local", "duration_minutes", "source")
    }  # fmt: skip


def import_overrides(
    db: Database, source: Source, *, tz: str, max_bytes: int = DEFAULT_MAX_BYTES, name: str | None = None
) -> ImportSummary:
    """Overrides: ``grid_code, role, kind, staff_code, replaces_staff_code, starts_at, ends_at[, reason]``.

    Times are local to ``tz`` unless they carry an offset. ``leave``: ``staff_code`` (or
    ``replaces_staff_code``) is the person away; ``swap``: ``staff_code`` takes ``replaces_staff_code``'s
    place; ``cover``: ``staff_code`` is added (in place of ``replaces_staff_code`` when given).
    """
    zone = ZoneInfo(tz)
    table = read_csv(source, required=OVERRIDE_COLUMNS, optional=OVERRIDE_OPTIONAL, max_bytes=max_bytes, name=name)
    problems: list[ImportProblem] = []
    overrides: list[DutyOverride] = []
    with db.session() as session:
        grids, staff = known_codes(session)
        for row in table.rows:
            grid_code, role, kind = row.get("grid_code"), row.get("role").lower() or "primary", row.get("kind").lower()
            who, replaces = row.get("staff_code") or None, row.get("replaces_staff_code") or None
            errors: list[ImportProblem] = []
            if grid_code not in grids:
                errors.append(row.problem("directory.rota.unknown_grid", code=grid_code))
            if problem := role_problem(grid_code, role):
                errors.append(row.invalid(problem))
            if kind not in OVERRIDE_KINDS:
                errors.append(row.problem("directory.rota.bad_kind", kind=kind))
            if kind == "leave":
                who, replaces = None, replaces or who  # stored: the person away is the one replaced
                if not replaces:
                    errors.append(row.problem("directory.rota.leave_needs"))
            elif kind == "swap" and not (who and replaces):
                errors.append(row.problem("directory.rota.swap_needs"))
            elif kind == "cover" and not who:
                errors.append(row.problem("directory.rota.cover_needs"))
            errors.extend(
                row.problem("directory.rota.unknown_staff", code=c) for c in (who, replaces) if c and c not in staff
            )
            try:
                starts = parse_local_datetime(row.get("starts_at"), zone)
                ends = parse_local_datetime(row.get("ends_at"), zone)
                if ends <= starts:
                    errors.append(row.problem("directory.rota.end_before_start"))
            except Invalid as exc:
                errors.append(row.invalid(exc))
            if errors:
                problems.extend(errors)
                continue
            overrides.append(DutyOverride(
                grid_code=grid_code, role=role, kind=kind, staff_code=who, replaces_staff_code=replaces,
                starts_at=starts, ends_at=ends, reason=row.get("reason") or None,
            ))  # fmt: skip
        if problems:
            raise ImportFailed(table.name, problems)
        summary = ImportSummary("overrides", table.name, encoding=table.encoding)
        existing = {_key(o) for o in directory.all_overrides(session)}
        for override in overrides:
            if _key(override) in existing:
                summary.updated += 1  # already there
                continue
            existing.add(_key(override))
            session.add(override)
            summary.created += 1
    return summary


def _key(o: DutyOverride) -> tuple[object, ...]:
    from gridline.clock import as_utc

    return (o.grid_code, o.role, o.kind, o.staff_code, o.replaces_staff_code, as_utc(o.starts_at), as_utc(o.ends_at))
