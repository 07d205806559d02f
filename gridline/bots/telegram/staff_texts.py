"""What staff commands say: ``/duty`` (my shifts) and ``/cases`` (my open cases), as phrases (each
line a catalogue key with its facts; the message row keeps them)."""

from __future__ import annotations

from collections.abc import Sequence
from zoneinfo import ZoneInfo

from gridline.i18n import has
from gridline.i18n.phrases import Phrase, lines
from gridline.routing.handover import window_facts
from gridline.routing.queries import Duty
from gridline.storage.models import Case


def duty_text(duty: Duty, days: int, timezone: str, grid_names: dict[str, str]) -> Phrase:
    """One line per shift in local time: ``• 周四 11-26 08:00–20:00 · 莲花社区第二网格``; a shift held
    for someone (a /cover or a swap) says whose, ``…（代廖志强）``, and one's own shift someone else
    holds says who, ``…（已交叶保国代班）``."""
    handed = duty.handed_to
    if not duty.shifts and not handed:
        return Phrase("telegram.staff.duty.empty", {"days": days})
    zone = ZoneInfo(timezone)
    said: list[Phrase] = [Phrase("telegram.staff.duty.header", {"days": days})]
    for shift in sorted({*duty.shifts, *handed}):
        start_utc, end_utc, grid_code, role = shift
        facts = window_facts(start_utc, end_utc, zone, grid_names.get(grid_code, grid_code))
        backup = "backup_" if role == "backup" else ""
        if shift in handed:
            said.append(Phrase(f"telegram.staff.duty.line_{backup}handed", {**facts, "name": handed[shift]}))
        elif shift in duty.held_for:
            said.append(Phrase(f"telegram.staff.duty.line_{backup}for", {**facts, "name": duty.held_for[shift]}))
        elif role == "backup":
            label = Phrase("telegram.staff.duty.backup")
            said.append(Phrase("telegram.staff.duty.line_backup", {**facts, "backup": label}))
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
