"""Cases (工单), the pages sent about them, acknowledgements and the durable escalation timers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from gridline.storage.models.timers import TimerRow
from gridline.storage.types import JSONType, UTCDateTime


class Case(SQLModel, table=True):
    """A resident's problem. ``status`` follows ``gridline.domain.lifecycle.CASE_TRANSITIONS``."""

    __tablename__ = "cases"

    id: int | None = Field(default=None, primary_key=True)
    ref: str = Field(index=True, unique=True, max_length=16)
    resident_id: int | None = Field(default=None, foreign_key="residents.id", index=True)
    grid_code: str | None = Field(default=None, index=True, max_length=64, description="None = triage")
    category: str = Field(index=True, max_length=64)
    priority: str = Field(index=True, max_length=16, description="emergency | urgent | normal")
    status: str = Field(index=True, max_length=16)
    channel: str = Field(max_length=16)
    summary: str = Field(sa_column=Column(Text, nullable=False))
    address_text: str | None = Field(default=None, max_length=300)
    lat: float | None = None
    lon: float | None = None
    nlu_confidence: float | None = None
    # Why this grid, this category, this priority, these people: [{"decision", "reason", ...}]
    explanation: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSONType)
    # The escalation policy as it was when the case started.
    policy: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    assignee_staff_id: int | None = Field(default=None, foreign_key="staff.id", index=True)
    acknowledged_by: int | None = Field(default=None, foreign_key="staff.id")
    resolved_by: int | None = Field(default=None, foreign_key="staff.id")
    duplicate_of_id: int | None = Field(default=None, foreign_key="cases.id")
    report_count: int = 1
    # 主动发现: found by a grid worker on a visit (routing.visits), not reported by a resident.
    proactive: bool = Field(default=False, index=True)
    rating: int | None = None
    rating_comment: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(sa_type=UTCDateTime, index=True)
    updated_at: datetime = Field(sa_type=UTCDateTime)
    acknowledged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    ack_due_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    resolve_due_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Page(SQLModel, table=True):
    """One notification of one staff member about one case on one channel.

    ``status`` follows ``gridline.domain.lifecycle.PAGE_TRANSITIONS``. ``code`` is the short number a
    leader replies by SMS, unique among that phone's open pages. ``provider_seq`` orders provider
    status callbacks so that an old one never overwrites a newer one.
    """

    __tablename__ = "pages"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    staff_id: int = Field(foreign_key="staff.id", index=True)
    step_index: int = 0
    round: int = 0
    reason: str = Field(default="", max_length=64, description="policy target that chose this person")
    channel: str = Field(max_length=16)
    target: str = Field(default="", max_length=100)
    bot_name: str = Field(default="", max_length=64)
    contact_method_id: int | None = Field(default=None, foreign_key="contact_methods.id")
    status: str = Field(index=True, max_length=16)
    code: int | None = None
    created_at: datetime = Field(sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    delivered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    acknowledged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    failed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    expired_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    provider_message_id: str | None = Field(default=None, index=True, max_length=128)
    provider_status: str | None = Field(default=None, max_length=32)
    provider_seq: int = -1
    attempts: int = 0
    next_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    claimed_by: str | None = Field(default=None, max_length=64)
    error: str | None = Field(default=None, max_length=500)
    # Provider-side handles to edit the page later (Telegram chat/message ids of the sent page).
    provider_ref: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)


class Acknowledgement(SQLModel, table=True):
    __tablename__ = "acknowledgements"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    page_id: int | None = Field(default=None, foreign_key="pages.id")
    staff_id: int = Field(foreign_key="staff.id")
    channel: str = Field(max_length=16)
    at: datetime = Field(sa_type=UTCDateTime)


class CaseEvent(SQLModel, table=True):
    """The case timeline: created, paged, escalated, acknowledged, note, reassigned, rated, ..."""

    __tablename__ = "case_events"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    at: datetime = Field(sa_type=UTCDateTime, index=True)
    kind: str = Field(max_length=32)
    actor: str = Field(default="system", max_length=100)
    data: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)


class EscalationStep(TimerRow, table=True):
    """A durable timer: step ``step_index`` of round ``round`` of the case's policy, due at ``due_at``.

    Workers claim a step by moving it from ``pending`` to ``running`` in one conditional UPDATE, so
    several workers (and a reconciler re-queueing what Redis lost) never run it twice.
    """

    __tablename__ = "escalation_steps"
    __table_args__ = (UniqueConstraint("case_id", "round", "step_index", name="uq_escalation_step"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    round: int = 0
    step_index: int = 0
    # due_at, status, claimed_at, claimed_by, done_at, outcome: TimerRow
