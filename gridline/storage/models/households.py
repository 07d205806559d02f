"""The household roster of a base grid (网格户籍): who lives where, who needs looking in on.

This is the most sensitive data Gridline keeps — who lives alone, who is poor or disabled — so it
is read only through the roster store with the viewer's grid scope, numbers are masked on every
screen, and a removed household is purged after ``roster.retention_days``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from gridline.i18n import DEFAULT_LANGUAGE
from gridline.storage.types import JSONType, UTCDateTime


class Household(SQLModel, table=True):
    """One dwelling (building-unit-room) in a base grid."""

    __tablename__ = "households"
    __table_args__ = (UniqueConstraint("grid_code", "building", "unit", "room", name="uq_household_room"),)

    id: int | None = Field(default=None, primary_key=True)
    grid_code: str = Field(index=True, max_length=64)
    # building: 楼/栋 ('' for a bungalow compound)
    building: str = Field(default="", max_length=32)
    # unit: 单元 ('' when the building has none)
    unit: str = Field(default="", max_length=32)
    # room: 室/户
    room: str = Field(max_length=32)
    address_id: int | None = Field(default=None, foreign_key="addresses.id")
    address_text: str | None = Field(default=None, max_length=300)
    # Tag codes (``roster.tags``): elderly_alone, very_old, hardship, disabled, left_behind_child …
    tags: list[str] = Field(default_factory=list, sa_type=JSONType)
    # Consents: daily check-ins (平安守护) and calling the family when a check-in goes unanswered.
    consent_checkin: bool = False
    consent_family: bool = False
    # The named helper next door (微网格长 / neighbour) who is asked before the leader.
    helper_name: str | None = Field(default=None, max_length=100)
    helper_phone: str | None = Field(default=None, max_length=32, description="E.164")
    notes: str | None = Field(default=None, max_length=2000)
    lang: str = Field(default=DEFAULT_LANGUAGE.value, max_length=8)
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)
    # Moved away or deceased: kept (out of every list) until the retention period has passed.
    removed_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)

    @property
    def room_key(self) -> str:
        """``3-2-501`` as grid workers write it (parts that are empty are left out)."""
        return "-".join(part for part in (self.building, self.unit, self.room) if part)


class HouseholdPerson(SQLModel, table=True):
    """A member living in the household, or a family contact living elsewhere."""

    __tablename__ = "household_people"

    id: int | None = Field(default=None, primary_key=True)
    household_id: int = Field(foreign_key="households.id", index=True)
    kind: str = Field(max_length=16, description="member | family")
    name: str = Field(max_length=100)
    phone: str | None = Field(default=None, max_length=32, description="E.164")
    # relation, for family: 儿子, 女儿 …
    relation: str | None = Field(default=None, max_length=50)
    resident_id: int | None = Field(default=None, foreign_key="residents.id")
    position: int = 0
    # 平安守护 opt-in of a member (the household's ``consent_checkin`` must be given too):
    # the channel (sms | voice | telegram; None = not opted in), the local time and the weekdays
    # (0 = Monday; empty = every day). See docs/checkins.md.
    checkin_channel: str | None = Field(default=None, max_length=16)
    checkin_time: str | None = Field(default=None, max_length=5, description="HH:MM local")
    checkin_days: list[int] = Field(default_factory=list, sa_type=JSONType)
    # No longer listed by a roster re-import (moved out, died, a family contact dropped): out of every
    # list and question, kept because check-ins point at it; listed again, the same row comes back.
    removed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
