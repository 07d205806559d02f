"""Texts for staff commands: ``/duty`` (my shifts) and ``/cases`` (my open cases)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from gridline.i18n import has, t, weekday
from gridline.storage.models import Case

# (start UTC, end UTC, grid code, role) as ``gridline.routing.queries.staff_shifts`` returns them.
Shift = tuple[datetime, datetime, str, str]


def duty_text(shifts: Sequence[Shift], lang: str, days: int, timezone: str, grid_names: dict[str, str]) -> str:
    """One line per shift in local time: ``• 周四 11-26 08:00–20:00 · 莲花社区第二网格``."""
    if not shifts:
        return t("telegram.staff.duty.empty", lang, days=days)
    zone = ZoneInfo(timezone)
    lines = [t("telegram.staff.duty.header", lang, days=days)]
    for start_utc, end_utc, grid_code, role in shifts:
        start, end = start_utc.astimezone(zone), end_utc.astimezone(zone)
        day = weekday(start.weekday(), lang)
        until = f"{end:%H:%M}" if end.date() == start.date() else f"{end:%m-%d %H:%M}"
        where = grid_names.get(grid_code, grid_code)
        backup = f" ({t('telegram.staff.duty.backup', lang)})" if role == "backup" else ""
        lines.append(f"• {day} {start:%m-%d %H:%M}–{until} · {where}{backup}")
    return "\n".join(lines)


def cases_text(cases: Sequence[Case], lang: str) -> str:
    """One line per case: ``• 75CM89 · 供水 · 已接单 · 红松路30号院``."""
    if not cases:
        return t("telegram.staff.cases.empty", lang)
    lines = [t("telegram.staff.cases.header", lang)]
    for case in cases:
        parts = [case.ref, _label("category", case.category, lang), _label("case_status", case.status, lang)]
        if case.address_text:
            parts.append(case.address_text)
        lines.append("• " + " · ".join(parts))
    return "\n".join(lines)


def _label(kind: str, value: str, lang: str) -> str:
    key = f"{kind}.{value}"
    return t(key, lang) if has(key) else value
