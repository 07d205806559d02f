"""What a staff member's shifts say, one line each — Telegram's ``/duty`` and the SMS ``值班`` alike:
``• 周四 11-26 08:00–20:00 · 莲花社区第二网格``; a shift held for someone (a /cover or a swap) says
whose, ``…（代廖志强）``, and one's own shift someone else holds says who, ``…（已交叶保国代班）``."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from gridline.i18n.phrases import Phrase
from gridline.routing.handover import window_facts
from gridline.routing.queries import Duty


def duty_lines(duty: Duty, timezone: str, grid_names: dict[str, str]) -> list[Phrase]:
    """One line per shift (one's own, held for someone, handed to someone), in time order."""
    zone = ZoneInfo(timezone)
    handed = duty.handed_to
    said: list[Phrase] = []
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
    return said


def short_grid_name(name: str) -> str:
    """A grid's name without its parenthesised boundaries (「莲花社区第二网格」): for a text with no room."""
    for mark in ("（", "("):
        head = name.split(mark, 1)[0].strip()
        if head:
            name = head
    return name
