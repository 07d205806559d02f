"""Deadlines in working days (限时办理): "3 working days" as a Chinese government office counts them.

A limit of N working days ends when the N-th working day after the day the case came in is over
(local time): a report on Friday evening with a 3-working-day limit is due at the end of Wednesday,
and the National Day week or a Spring Festival does not count while an adjusted working Saturday
does. Hour limits (emergencies) run on the clock, holidays or not.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from gridline.clock import as_utc
from gridline.i18n.phrases import Phrase
from gridline.settings import TIME_LIMIT_RE, Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limit:
    amount: int
    unit: str  # "wd" working days | "h" hours

    @classmethod
    def parse(cls, text: str) -> Limit:
        match = TIME_LIMIT_RE.match(text)
        if match is None:
            raise ValueError(f"a time limit is 'Nwd' (working days) or 'Nh' (hours), not {text!r}")
        return cls(int(match.group(1)), match.group(2))


class WorkingCalendar:
    """Which local days are working days."""

    def __init__(self, kind: str = "cn") -> None:
        self.kind = kind

    def is_workday(self, day: date) -> bool:
        if self.kind == "cn":
            known = _cn_workday(day)
            if known is not None:
                return known
        return day.weekday() < 5

    def add_working_days(self, start: date, days: int) -> date:
        """The ``days``-th working day after ``start`` (``start`` itself never counts)."""
        day, counted = start, 0
        while counted < days:
            day += timedelta(days=1)
            if self.is_workday(day):
                counted += 1
        return day


@lru_cache(maxsize=4096)
def _cn_workday(day: date) -> bool | None:
    """The official calendar's answer, or None for a year it has no data for (then Mon–Fri)."""
    import chinese_calendar

    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        log.warning("no Chinese holiday data for %s; counting Monday to Friday", day.year)
        return None


def limit_for(settings: Settings, category: str, priority: str) -> Limit:
    text = settings.deadlines.resolve_by_priority.get(priority) or settings.deadlines.resolve.get(category)
    if text is None:
        return Limit(settings.cases.resolve_sla_hours.get(priority, 72), "h")
    return Limit.parse(text)


def resolve_deadline(settings: Settings, category: str, priority: str, opened_at: datetime) -> datetime:
    """When a case opened at ``opened_at`` (aware) must be resolved."""
    return deadline_after(settings, limit_for(settings, category, priority), opened_at)


def deadline_after(settings: Settings, limit: Limit, start: datetime) -> datetime:
    if limit.unit == "h":
        return start + timedelta(hours=limit.amount)
    zone = ZoneInfo(settings.timezone)
    # Counted from the last day ``start`` covers: a deadline at 24:00 (stored as 00:00 of the next
    # day) that is extended counts its next working day, not the day after it.
    local_day = (start.astimezone(zone) - timedelta(microseconds=1)).date()
    last_day = WorkingCalendar(settings.deadlines.calendar).add_working_days(local_day, limit.amount)
    end_of_day = datetime.combine(last_day + timedelta(days=1), time(0, 0), tzinfo=zone)
    return end_of_day.astimezone(start.tzinfo)


def time_left(settings: Settings, due: datetime, now: datetime) -> tuple[int, str] | None:
    """What is left before ``due``: (n, "wd") whole working days after today, else (n, "h") hours;
    None when it has passed."""
    if due <= now:
        return None
    if due - now < timedelta(hours=24):
        return int((due - now).total_seconds() // 3600), "h"
    zone = ZoneInfo(settings.timezone)
    calendar = WorkingCalendar(settings.deadlines.calendar)
    today = now.astimezone(zone).date()
    last = (due - timedelta(microseconds=1)).astimezone(zone).date()
    days, day = 0, today
    while day < last:
        day += timedelta(days=1)
        days += calendar.is_workday(day)
    if days == 0:
        return int((due - now).total_seconds() // 3600), "h"
    return days, "wd"


def local_deadline(tz: str, at: datetime) -> str:
    """A deadline as written in texts, ``2026-12-01 17:00`` in the rota's zone; one that ends at
    midnight (every working-day limit) is 24:00 of its last day — 「2026-12-01 24:00」, not
    「2026-12-02 00:00」, which reads a day late (as :func:`due_phrase` on pages)."""
    local = as_utc(at).astimezone(ZoneInfo(tz))
    if local.strftime("%H:%M") == "00:00":
        return (local - timedelta(days=1)).strftime("%Y-%m-%d 24:00")
    return local.strftime("%Y-%m-%d %H:%M")


def due_phrase(settings: Settings, due: datetime | None, now: datetime) -> Phrase | None:
    """``限时 12月3日 17:00（2个工作日）`` / ``Due Dec 3 17:00 (2 working days)`` as a phrase (the reader's
    channel words it); None without a deadline."""
    if due is None:
        return None
    local = due.astimezone(ZoneInfo(settings.timezone))
    hm = local.strftime("%H:%M")
    if hm == "00:00":
        # A working-day limit ends when its last day is over: 「12月7日 24:00」, which people read
        # right, not 「12月8日 00:00」, which reads as a day later than the day it is.
        local, hm = local - timedelta(days=1), "24:00"
    when = Phrase("deadline.date", {"month": local.month, "day": local.day, "mon": local.strftime("%b"),
                                    "hm": hm})  # fmt: skip
    left = time_left(settings, due, now)
    if left is None:
        return Phrase("deadline.overdue", {"when": when})
    amount, unit = left
    if unit == "wd":
        span = Phrase("deadline.working_day") if amount == 1 else Phrase("deadline.working_days", {"n": amount})
    else:
        span = Phrase("deadline.under_hour") if amount < 1 else Phrase("deadline.hours", {"n": amount})
    return Phrase("deadline.shown", {"when": when, "left": span})
