"""Parsing the cells of import files: phone numbers, languages, weekdays, times and dates.

Each parser raises :class:`~gridline.importers.Invalid` (a ``ValueError``) naming the catalogue message.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

import phonenumbers

from gridline.i18n import DEFAULT_LANGUAGE, normalise_language
from gridline.importers import Invalid

_WEEKDAYS = {
    "mon": 0, "monday": 0, "tue": 1, "tues": 1, "tuesday": 1, "wed": 2, "wednesday": 2, "thu": 3, "thur": 3,
    "thurs": 3, "thursday": 3, "fri": 4, "friday": 4, "sat": 5, "saturday": 5, "sun": 6, "sunday": 6,
    "mo": 0, "tu": 1, "we": 2, "th": 3, "fr": 4, "sa": 5, "su": 6,
    "一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "七": 6,
}  # fmt: skip
_WEEKDAY_PREFIX = re.compile(r"^(?:周|星期|礼拜)")
# Yes/no cells (consents, "active"), as districts fill them in; an empty cell is no.
YES_WORDS = frozenset({"yes", "y", "true", "1", "是", "同意", "有"})
NO_WORDS = frozenset({"no", "n", "false", "0", "否", "不同意", "无", ""})
# The staff file's ``active`` column: anything but these (an empty cell included) is active.
INACTIVE_WORDS = frozenset({"0", "false", "no", "否"})
# Cells listing several tags or people: ``独居老人、高龄``, ``a;b``, ``a|b`` (a comma may be inside a name).
ROSTER_LIST_SPLIT = re.compile(r"[;；、|]")
# The 平安守护 channel of a roster row (``checkin_channel``): what Gridline stores for each word.
CHECKIN_CHANNEL_WORDS = {
    "sms": "sms", "短信": "sms", "text": "sms", "voice": "voice", "call": "voice", "电话": "voice",
    "语音": "voice", "telegram": "telegram", "tg": "telegram",
}  # fmt: skip
_HHMM = re.compile(r"^(\d{1,2}):(\d{2})$")


def normalize_phone(value: str, region: str = "CN") -> str:
    """A phone number as E.164 (``+8617000000001``); numbers without ``+`` are read in ``region``."""
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException as exc:
        raise Invalid("directory.field.bad_phone", value=value) from exc
    if not phonenumbers.is_valid_number(number):
        raise Invalid("directory.field.invalid_phone", value=value)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_lang(value: str) -> str:
    if not value:
        return DEFAULT_LANGUAGE
    lowered = value.strip().lower()
    if not (lowered.startswith("en") or lowered.startswith("zh") or lowered in ("中文", "英文", "english")):
        raise Invalid("directory.field.bad_lang", value=value)
    return "en" if lowered in ("英文", "english") else normalise_language(lowered)


def _one_weekday(token: str) -> int:
    token = _WEEKDAY_PREFIX.sub("", token.strip().lower())
    if token.isdigit():
        number = int(token)
        if 1 <= number <= 7:
            return number - 1  # ISO: 1 = Monday … 7 = Sunday
        raise Invalid("directory.field.bad_weekday_number", value=token)
    if token in _WEEKDAYS:
        return _WEEKDAYS[token]
    raise Invalid("directory.field.bad_weekday", value=token)


def parse_weekdays(value: str) -> list[int]:
    """``Mon``, ``Mon-Fri``, ``1-5``, ``Sat,Sun``, ``Mon|Wed``, ``周一至周五``, ``daily`` → 0 = Monday …"""
    text = value.strip().lower()
    if not text:
        raise Invalid("directory.field.empty_weekday")
    if text in ("daily", "all", "*", "每天", "每日"):
        return list(range(7))
    days: list[int] = []
    for part in re.split(r"[,|;，、\s]+", text):
        if not part:
            continue
        bounds = re.split(r"-|~|–|至|到", part)
        if len(bounds) == 2:
            first, last = _one_weekday(bounds[0]), _one_weekday(bounds[1])
            span = (last - first) % 7  # Fri-Mon wraps over the weekend
            days.extend((first + i) % 7 for i in range(span + 1))
        elif len(bounds) == 1:
            days.append(_one_weekday(bounds[0]))
        else:
            raise Invalid("directory.field.bad_weekday_range", value=part)
    return sorted(set(days))


def parse_hhmm(value: str) -> str:
    """Validate ``HH:MM`` (``24:00`` allowed as an end) and return it zero-padded."""
    match = _HHMM.match(value.strip())
    if not match:
        raise Invalid("directory.field.bad_time", value=value)
    hours, minutes = int(match.group(1)), int(match.group(2))
    if not (hours < 24 and minutes < 60) and (hours, minutes) != (24, 0):
        raise Invalid("directory.field.time_range", value=value)
    return f"{hours:02d}:{minutes:02d}"


def parse_date(value: str) -> date | None:
    if not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise Invalid("directory.field.bad_date", value=value) from None


def parse_local_datetime(value: str, zone: ZoneInfo) -> datetime:
    """``2026-12-01 08:00`` in the rota's zone (or with an explicit offset) → aware datetime."""
    text = value.strip().replace("T", " ")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise Invalid("directory.field.bad_datetime", value=value) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone)
    return parsed


def split_list(value: str) -> list[str]:
    """Cells holding several values: ``a|b``, ``a;b``, ``a；b``, ``a,b``."""
    return [part.strip() for part in re.split(r"[|;；,，]", value) if part.strip()]


__all__ = [
    "normalize_lang",
    "normalize_phone",
    "parse_date",
    "parse_hhmm",
    "parse_local_datetime",
    "parse_weekdays",
    "split_list",
]
