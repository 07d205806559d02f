"""Typed, bounded request parameters: ids that fit the column, dates a person could mean."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import Path

# Primary keys are BIGINT on PostgreSQL and INTEGER (64-bit) on SQLite: a larger id cannot exist,
# and passing one to the driver raises instead of finding nothing.
MAX_ROW_ID = 2**63 - 1

RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID, description="a row id (1 … 2⁶³−1)")]

# Nothing in Gridline happened before 2000 or will be planned past 2200; dates outside are typing
# mistakes or probes, and at the extremes (0001, 9999) date arithmetic overflows.
FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2199, 12, 31)
FIRST_TIME = datetime(2000, 1, 1, tzinfo=UTC)
LAST_TIME = datetime(2199, 12, 31, tzinfo=UTC)


def sane_date(value: date | None) -> date | None:
    """``value`` when it lies within ``FIRST_DAY..LAST_DAY``, else None."""
    if value is None or not FIRST_DAY <= value <= LAST_DAY:
        return None
    return value


def sane_time(value: datetime) -> bool:
    """True when an aware ``value`` lies within ``FIRST_TIME..LAST_TIME``."""
    return FIRST_TIME <= value <= LAST_TIME
