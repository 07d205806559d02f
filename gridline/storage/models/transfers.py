"""The department loop (条块融合): transfers of a case to a functional department, their accept timers,
and extensions (延期) of a deadline.

``Transfer.status`` follows ``gridline.routing.transfers.TRANSFER_TRANSITIONS`` and
``Extension.status`` ``gridline.routing.extensions.EXTENSION_TRANSITIONS``; only their
``transition()`` functions write them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel

from gridline.storage.models.timers import TimerRow
from gridline.storage.types import JSONType, UTCDateTime


class Transfer(SQLModel, table=True):
    """One hand-over of a case to a department (转办), from request to review."""

    __tablename__ = "transfers"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    department: str = Field(max_length=100, index=True)
    category: str = Field(max_length=64)
    status: str = Field(index=True, max_length=16)
    note: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    # Who sent it: "staff:<code>" or "console:<user>"; the staff id when it was a staff member.
    requested_by: str = Field(max_length=100)
    requested_by_staff_id: int | None = Field(default=None, foreign_key="staff.id")
    from_grid_code: str | None = Field(default=None, max_length=64)
    requested_at: datetime = Field(sa_type=UTCDateTime)
    accept_due_at: datetime = Field(sa_type=UTCDateTime)
    accepted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    accepted_by: int | None = Field(default=None, foreign_key="staff.id")
    # The department's own deadline, counted from its acceptance (签收).
    due_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    replied_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    replied_by: int | None = Field(default=None, foreign_key="staff.id")
    reply_text: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # Evidence (photos, files) attached to the reply; stored by the evidence store.
    evidence_ids: list[int] = Field(default_factory=list, sa_type=JSONType)
    reviewed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reviewed_by: str | None = Field(default=None, max_length=100)
    review_note: str | None = Field(default=None, max_length=2000)
    returned_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    returned_by: int | None = Field(default=None, foreign_key="staff.id")
    return_reason: str | None = Field(default=None, max_length=32)
    return_note: str | None = Field(default=None, max_length=2000)
    escalated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)


class TransferTimer(TimerRow, table=True):
    """A durable timer of a transfer: ``accept`` — nobody accepted it by ``due_at``: escalate.

    Claimed pending → running → done by one conditional UPDATE, like ``escalation_steps``.
    """

    __tablename__ = "transfer_timers"

    id: int | None = Field(default=None, primary_key=True)
    transfer_id: int = Field(foreign_key="transfers.id", index=True)
    kind: str = Field(default="accept", max_length=16)
    # due_at, status, claimed_at, claimed_by, done_at, outcome: TimerRow


class Extension(SQLModel, table=True):
    """A request to move a case's deadline (延期), and the decision of the level above."""

    __tablename__ = "extensions"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    status: str = Field(index=True, max_length=16)
    requested_by: str = Field(max_length=100)
    requested_by_staff_id: int | None = Field(default=None, foreign_key="staff.id")
    requested_at: datetime = Field(sa_type=UTCDateTime)
    reason: str = Field(max_length=1000)
    amount: str = Field(max_length=16, description="a time limit: Nwd or Nh")
    old_due_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    new_due_at: datetime = Field(sa_type=UTCDateTime)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decided_by: str | None = Field(default=None, max_length=100)
    decision_note: str | None = Field(default=None, max_length=1000)
