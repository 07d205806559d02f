"""The grammar of a shift hand-over (交班): ``MBR-GX01-01-2 12-05 08:00 20:00 理由`` after ``/cover``.

An optional grid code first (``GX01-01-2 MBR-GX01-01-2 …``: which grid's shifts, for someone on the
rota of more than one — the second word is then the staff code, not a start), a staff code, a start
(``[[YYYY-]MM-DD] HH:MM``, or a word for now from the catalogue, ``rota.cover.now_words``: 现在 /
now), an end (``[[YYYY-]MM-DD] HH:MM``) and the reason, the times local as in the overrides CSV
(docs/import-formats.md). Full-width characters do not matter.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from gridline.i18n import LANGUAGES, t

_DATE = re.compile(r"^(?:(?P<y>\d{4})-)?(?P<m>\d{1,2})-(?P<d>\d{1,2})$")
_TIME = re.compile(r"^(?P<h>\d{1,2}):(?P<min>\d{2})$")


def _now_words() -> set[str]:
    return {w.strip().lower() for lang in LANGUAGES for w in t("rota.cover.now_words", lang).split("|") if w.strip()}


@dataclass(frozen=True)
class CoverAsk:
    """A parsed ``/cover``: who covers, the window (UTC), the reason (may be empty) and the grid whose
    shifts are handed over (None: whichever the sender has in the window)."""

    staff_code: str
    starts_at: datetime
    ends_at: datetime
    reason: str
    grid_code: str | None = None


def parse_cover(args: str, now: datetime, tz: str) -> CoverAsk | None:
    """``[GRID] CODE START END [reason]``; START is ``[[YYYY-]MM-DD] HH:MM`` or ``现在``/``now``, END is
    ``[[YYYY-]MM-DD] HH:MM``. A missing date is today (START) or START's day (END); an END not after
    START is on the next day (a night shift, ``20:00 08:00``). None when it does not parse."""
    words = unicodedata.normalize("NFKC", args).split()
    if len(words) < 3:
        return None
    zone = ZoneInfo(tz)
    local_now = now.astimezone(zone)
    code, rest = words[0], words[1:]
    grid: str | None = None
    if len(words) >= 4 and not _starts_a_moment(words[1]):
        # ``GRID CODE START END``: a start is never a code, so the first word was the grid.
        grid, code, rest = words[0].upper(), words[1], words[2:]
    if rest[0].lower() in _now_words():
        start, rest = local_now.replace(second=0, microsecond=0), rest[1:]
    else:
        parsed = _moment(rest, local_now.date(), local_now.year)
        if parsed is None:
            return None
        start_day, start_time, rest = parsed
        start = datetime.combine(start_day, start_time, zone)
    parsed = _moment(rest, start.date(), start.year)
    if parsed is None:
        return None
    end_day, end_time, rest = parsed
    end = datetime.combine(end_day, end_time, zone)
    if end <= start:
        end = datetime.combine(end_day + timedelta(days=1), end_time, zone)
    return CoverAsk(code.upper(), start.astimezone(UTC), end.astimezone(UTC), " ".join(rest)[:200], grid)


def _starts_a_moment(word: str) -> bool:
    """Whether ``word`` can begin a start: a date, a time, or 现在 / now."""
    return bool(_DATE.match(word) or _TIME.match(word)) or word.lower() in _now_words()


def _moment(words: list[str], day: date, year: int) -> tuple[date, time, list[str]] | None:
    """An optional date then a time from the front of ``words``; the rest."""
    if not words:
        return None
    found = _DATE.match(words[0])
    if found:
        try:
            day = date(int(found["y"] or year), int(found["m"]), int(found["d"]))
        except ValueError:
            return None
        words = words[1:]
    clock = _TIME.match(words[0]) if words else None
    if clock is None or int(clock["h"]) > 23 or int(clock["min"]) > 59:
        return None
    return day, time(int(clock["h"]), int(clock["min"])), words[1:]


