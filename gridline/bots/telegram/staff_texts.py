"""What staff commands say: ``/duty`` (my shifts) and ``/cases`` (my open cases), as phrases (each
line a catalogue key with its facts; the message row keeps them)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from gridline.i18n import WEEKDAY_KEYS, has
from gridline.i18n.phrases import Phrase, lines
from gridline.storage.models import Case

# (start UTC, end UTC, grid code, role) as ``gridline.routing.queries.staff_duty`` returns them.
Shift = tuple[datetime, datetime, str, str]


def duty_text(shifts: Sequence[Shift], days: int, timezone: str, grid_names: dict[str, str],
              held_for: Mapping[Shift, str] | None = None) -> Phrase:
    """One line per shift in local time: ``• 周四 11-26 08:00–20:00 · 莲花社区第二网格``; a shift held
    for someone (``held_for``: a /cover or a swap) says whose: ``…（代廖志强）``."""
    if not shifts:
        return Phrase("telegram.staff.duty.empty", {"days": days})
    zone = ZoneInfo(timezone)
    said: list[Phrase] = [Phrase("telegram.staff.duty.header", {"days": days})]
    for start_utc, end_utc, grid_code, role in shifts:
        start, end = start_utc.astimezone(zone), end_utc.astimezone(zone)
        facts = {
            "day": Phrase(f"weekday.{WEEKDAY_KEYS[start.weekday()]}"),
            "start": f"{start:%m-%d %H:%M}",
            "until": f"{end:%H:%M}" if end.date() == start.date() else f"{end:%m-%d %H:%M}",
            "where": grid_names.get(grid_code, grid_code),
        }
        whose = (held_for or {}).get((start_utc, end_utc, grid_code, role))
        if whose is not None:
            key = "line_backup_for" if role == "backup" else "line_for"
            said.append(Phrase(f"telegram.staff.duty.{key}", {**facts, "name": whose}))
        elif role == "backup":
            backup = Phrase("telegram.staff.duty.backup")
            said.append(Phrase("telegram.staff.duty.line_backup", {**facts, "backup": backup}))
        else:
            said.append(Phrase("telegram.staff.duty.line", facts))
    return lines(said)


def cases_text(cases: Sequence[Case]) -> Phrase:
    """One line per case: ``• 75CM89 · 供水 · 已接单 · 红松路30号院``."""
    if not cases:
        return Phrase("telegram.staff.cases.empty")
    said: list[Phrase] = [Phrase("telegram.staff.cases.header")]
    for case in cases:
        facts = {"ref": case.ref, "category": _label("category", case.category),
                 "status": _label("case_status", case.status)}  # fmt: skip
        if case.address_text:
            said.append(Phrase("telegram.staff.cases.line_at", {**facts, "address": case.address_text}))
        else:
            said.append(Phrase("telegram.staff.cases.line", facts))
    return lines(said)


def _label(kind: str, value: str) -> Phrase | str:
    key = f"{kind}.{value}"
    return Phrase(key) if has(key) else value
