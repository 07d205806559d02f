"""The columns every durable timer table shares (escalation steps, transfer timers, check-in steps).

A timer row is due at ``due_at`` and claimed ``pending → running`` by one conditional UPDATE
(``storage.timers.claim``), stamped with who claimed it and when; it ends ``done`` (with what it
did) or ``cancelled``. The status moves through ``domain.lifecycle.STEP``.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from gridline.storage.types import UTCDateTime


class TimerRow(SQLModel):
    """Mixed into a timer table (``class CheckInStep(TimerRow, table=True)``): its claim columns."""

    due_at: datetime = Field(sa_type=UTCDateTime, index=True)
    status: str = Field(
        default="pending", index=True, max_length=16, description="pending | running | done | cancelled"
    )
    claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    claimed_by: str | None = Field(default=None, max_length=64)
    done_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    outcome: str | None = Field(default=None, max_length=300)
