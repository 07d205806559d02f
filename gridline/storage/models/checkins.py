"""平安守护 check-ins and sweeps: a question to a household member, and the durable timers of its silence.

``CheckIn.status`` follows ``gridline.routing.checkin_states`` (one ``transition()``); every move is a
``CheckInEvent``. ``CheckInStep`` rows are the timers (ask, retry, helper, leader, family, close),
claimed pending → running by one conditional UPDATE like ``escalation_steps``. A ``Sweep`` asks every
targeted household once ("1 平安 2 需要帮助"); its questions are check-ins of kind ``sweep``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from gridline.storage.models.timers import TimerRow
from gridline.storage.types import JSONType, UTCDateTime


class Sweep(SQLModel, table=True):
    """A supervisor's sweep (寒潮, 暴雨, 停水, 停电 …) over chosen grids and roster tags."""

    __tablename__ = "sweeps"

    id: int | None = Field(default=None, primary_key=True)
    reason: str = Field(max_length=32, description="a code of checkins.sweep_reasons")
    grid_codes: list[str] = Field(default_factory=list, sa_type=JSONType)
    tags: list[str] = Field(default_factory=list, sa_type=JSONType, description="roster tags; empty = every household")
    started_by: str = Field(max_length=100)
    created_at: datetime = Field(sa_type=UTCDateTime, index=True)
    window_minutes: float = 120
    households: int = 0


class CheckIn(SQLModel, table=True):
    """One question to one household member: a daily (or chosen-day) check-in, or a sweep's question."""

    __tablename__ = "checkins"
    __table_args__ = (
        # One check-in per member and local day, one sweep question per household: planning twice is harmless.
        UniqueConstraint("kind", "person_id", "cycle", name="uq_checkin_cycle"),
        UniqueConstraint("sweep_id", "household_id", name="uq_sweep_household"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(default="daily", max_length=8, description="daily | sweep")
    sweep_id: int | None = Field(default=None, foreign_key="sweeps.id", index=True)
    household_id: int = Field(foreign_key="households.id", index=True)
    person_id: int | None = Field(default=None, foreign_key="household_people.id", index=True)
    resident_id: int | None = Field(default=None, foreign_key="residents.id", index=True)
    identity_id: int | None = Field(default=None, foreign_key="channel_identities.id")
    grid_code: str = Field(index=True, max_length=64)
    channel: str = Field(max_length=16)
    # The local date of a daily check-in (YYYY-MM-DD); "sweep:<id>" for a sweep's question.
    cycle: str = Field(max_length=32)
    status: str = Field(index=True, max_length=16)
    due_at: datetime = Field(sa_type=UTCDateTime, index=True, description="when the question is asked")
    asked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The first answer window that passed in silence (the start of "silence to a person at the door").
    silent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    answered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    answer: str | None = Field(default=None, max_length=8, description="ok | help")
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Someone said they are going to the door (the helper's "1", a leader in the console).
    attended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    attended_by: str | None = Field(default=None, max_length=100)
    case_id: int | None = Field(default=None, foreign_key="cases.id", index=True)
    visit_ref: str | None = Field(default=None, max_length=64, description="the visit due today (sweeps)")
    message_ids: list[int] = Field(default_factory=list, sa_type=JSONType)
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)


class CheckInStep(TimerRow, table=True):
    """A durable timer of a check-in: stage ``stage`` due at ``due_at`` (pending → running → done)."""

    __tablename__ = "checkin_steps"
    __table_args__ = (UniqueConstraint("checkin_id", "stage", name="uq_checkin_step"),)

    id: int | None = Field(default=None, primary_key=True)
    checkin_id: int = Field(foreign_key="checkins.id", index=True)
    stage: str = Field(max_length=16, description="ask | retry | helper | on_duty_leader | family | close")
    # due_at, status, claimed_at, claimed_by, done_at, outcome: TimerRow


class CheckInEvent(SQLModel, table=True):
    """A check-in's timeline: every status change (``transition``) and whom its silence reached."""

    __tablename__ = "checkin_events"

    id: int | None = Field(default=None, primary_key=True)
    checkin_id: int = Field(foreign_key="checkins.id", index=True)
    at: datetime = Field(sa_type=UTCDateTime)
    kind: str = Field(max_length=32)
    actor: str = Field(default="system", max_length=100)
    data: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
