"""Texts for staff commands: ``/duty`` (my shifts) and ``/cases`` (my open cases)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from gridline.i18n import t

WEEKDAYS = {
    "zh-CN": ("周一", "周二", "周三", "周四", "周五", "周六", "周日"),
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
}


def duty_text(shifts: Sequence[Any], lang: str, days: int, timezone: str) -> str:
    """One line per shift in local time: ``周四 11-26 08:00–20:00 · 桐柏路社区 (primary)``."""
    if not shifts:
        return t("telegram.staff.duty.empty", lang, days=days)
    zone = ZoneInfo(timezone)
    lines = [t("telegram.staff.duty.header", lang, days=days)]
    for shift in shifts:
        start = _local(_field(shift, "starts_at", "start"), zone)
        end = _local(_field(shift, "ends_at", "end"), zone)
        where = _field(shift, "grid_name", "grid_code") or ""
        role = _field(shift, "role") or ""
        when = _span(start, end, lang)
        lines.append(f"• {when} · {where}" + (f" ({role})" if role else ""))
    return "\n".join(lines)


def cases_text(cases: Sequence[Any], lang: str) -> str:
    """One line per case: ``A1B2C3 · 停水 · acknowledged · 桐柏路199号院``."""
    if not cases:
        return t("telegram.staff.cases.empty", lang)
    lines = [t("telegram.staff.cases.header", lang)]
    for case in cases:
        parts = [
            str(_field(case, "ref") or ""),
            str(_field(case, "category_label", "category") or ""),
            str(_field(case, "status") or ""),
        ]
        address = _field(case, "address_text", "address")
        if address:
            parts.append(str(address))
        lines.append("• " + " · ".join(p for p in parts if p))
    return "\n".join(lines)


def _field(item: Any, *names: str) -> Any:
    for name in names:
        value = item.get(name) if isinstance(item, dict) else getattr(item, name, None)
        if value is not None:
            return value
    return None


def _local(value: Any, zone: ZoneInfo) -> datetime | None:
    if isinstance(value, datetime):
        return value.astimezone(zone) if value.tzinfo else value
    return None


def _span(start: datetime | None, end: datetime | None, lang: str) -> str:
    if start is None:
        return ""
    weekday = WEEKDAYS.get(lang, WEEKDAYS["zh-CN"])[start.weekday()]
    text = f"{weekday} {start:%m-%d %H:%M}"
    if end is not None:
        text += f"–{end:%H:%M}" if end.date() == start.date() else f"–{end:%m-%d %H:%M}"
    return text
