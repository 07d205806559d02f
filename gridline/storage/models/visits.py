"""走千家: visits to households as obligations (``visits``) and what happened to each (``visit_events``).

A visit is a durable timer row: ``next_at`` is when it next needs attention (its deadline while due,
the next escalation step once missed); a worker claims it with one conditional UPDATE that clears
``next_at``, so a visit's step runs once however many workers race for it. ``status`` follows
``gridline.routing.visits.VISIT_TRANSITIONS``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from gridline.storage.types import JSONType, UTCDateTime


class Visit(SQLModel, table=True):
    __tablename__ = "visits"

    id: int | None = Field(default=None, primary_key=True)
    household_id: int = Field(foreign_key="households.id", index=True)
    grid_code: str = Field(index=True, max_length=64)
    # The grid member (or leader) who owes the visit.
    staff_id: int | None = Field(default=None, foreign_key="staff.id", index=True)
    status: str = Field(index=True, max_length=16, description="due | done | missed | escalated | cancelled")
    reason: str = Field(default="cadence", max_length=32, description="cadence | sweep | checkin | manual")
    # The cadence that set the deadline (the tag whose rule was strictest, or "default").
    rule: str | None = Field(default=None, max_length=64)
    due_at: datetime = Field(sa_type=UTCDateTime, index=True)
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)
    # The timer: when this visit next needs a step (None = nothing to do).
    next_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    # The next escalation step to run once the visit is missed (0 = the one who owes it).
    step: int = 0
    missed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    escalated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    done_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    done_by: int | None = Field(default=None, foreign_key="staff.id")
    channel: str | None = Field(default=None, max_length=16, description="how it was logged")
    outcome: str | None = Field(default=None, max_length=16, description="ok | problem")
    note: str | None = Field(default=None, max_length=2000)
    # The 主动发现 case a problem found on this visit became.
    case_id: int | None = Field(default=None, foreign_key="cases.id")


class VisitEvent(SQLModel, table=True):
    """A visit's timeline: scheduled, missed, escalated (with whom), done, cancelled."""

    __tablename__ = "visit_events"

    id: int | None = Field(default=None, primary_key=True)
    visit_id: int = Field(foreign_key="visits.id", index=True)
    at: datetime = Field(sa_type=UTCDateTime)
    kind: str = Field(max_length=32)
    actor: str = Field(default="system", max_length=100)
    data: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)


class VisitDigest(SQLModel, table=True):
    """One day's digest of owed visits sent to one staff member (so it is sent once a day)."""

    __tablename__ = "visit_digests"
    __table_args__ = (UniqueConstraint("staff_id", "day", name="uq_visit_digest"),)

    id: int | None = Field(default=None, primary_key=True)
    staff_id: int = Field(foreign_key="staff.id", index=True)
    day: str = Field(max_length=10, description="local date, ISO")
    sent_at: datetime = Field(sa_type=UTCDateTime)
    count: int = 0
    channel: str | None = Field(default=None, max_length=16)
