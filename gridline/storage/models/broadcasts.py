"""Broadcasts (通知) to the residents of chosen grids, and the pacing lanes bulk messages leave by."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel

from gridline.storage.types import JSONType, UTCDateTime


class Broadcast(SQLModel, table=True):
    """A notice a supervisor sends to the residents of some grids (status: ``routing.broadcasts``)."""

    __tablename__ = "broadcasts"

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=100)
    body: str = Field(sa_column=Column(Text, nullable=False))
    # The window the notice is about (停水 from … to …), optional.
    starts_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    ends_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    grid_codes: list[str] = Field(default_factory=list, sa_type=JSONType)
    status: str = Field(default="draft", index=True, max_length=16, description="draft | sending | done | cancelled")
    created_by: str = Field(max_length=100)
    created_at: datetime = Field(sa_type=UTCDateTime, index=True)
    sending_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    done_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    cancelled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    recipient_count: int = 0


class PacingLane(SQLModel, table=True):
    """One sender's pace (``telegram:<bot>``, ``sms:<number>``): the next free send time of its bulk traffic.

    Reserving send times locks the row (``SELECT … FOR UPDATE``; SQLite has one writer), so workers in
    several processes never hand out the same time twice.
    """

    __tablename__ = "pacing_lanes"

    lane: str = Field(primary_key=True, max_length=100)
    next_free_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)
