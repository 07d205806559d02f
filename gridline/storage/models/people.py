"""Staff, their contact channels and duty, residents and their channel identities."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from gridline.i18n import DEFAULT_LANGUAGE
from gridline.storage.types import JSONType, UTCDateTime


class Staff(SQLModel, table=True):
    """A person who can be paged. ``role``: see ``gridline.domain.lifecycle.StaffRole``."""

    __tablename__ = "staff"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(index=True, unique=True, max_length=64)
    name: str = Field(max_length=100)
    role: str = Field(index=True, max_length=32)
    grid_code: str | None = Field(default=None, index=True, max_length=64)
    department: str | None = Field(default=None, max_length=100)
    # Issue categories (NLU intents) a department person handles.
    categories: list[str] = Field(default_factory=list, sa_type=JSONType)
    phone: str | None = Field(default=None, max_length=32, description="E.164")
    lang: str = Field(default=DEFAULT_LANGUAGE.value, max_length=8)
    active: bool = True


class ContactMethod(SQLModel, table=True):
    """One way to reach a staff member; tried in ``position`` order."""

    __tablename__ = "contact_methods"

    id: int | None = Field(default=None, primary_key=True)
    staff_id: int = Field(foreign_key="staff.id", index=True)
    channel: str = Field(max_length=16, description="telegram | sms | voice | web")
    target: str = Field(default="", max_length=100, description="chat id, E.164 number, or '' for web")
    bot_name: str = Field(default="", max_length=64)
    position: int = 0
    unreachable: bool = False
    unreachable_reason: str | None = Field(default=None, max_length=300)


class DutyShift(SQLModel, table=True):
    """A weekly recurring shift in the rota's local time zone.

    ``end`` not after ``start`` means the shift crosses midnight. Shifts imported from iCalendar
    keep their RRULE (``rrule``, ``dtstart_local``, ``duration_minutes``) instead of weekday/start/end.
    """

    __tablename__ = "duty_shifts"

    id: int | None = Field(default=None, primary_key=True)
    grid_code: str = Field(index=True, max_length=64)
    staff_code: str = Field(index=True, max_length=64)
    role: str = Field(default="primary", max_length=16, description="primary | backup")
    weekday: int | None = Field(default=None, ge=0, le=6, description="0 = Monday")
    start: str | None = Field(default=None, max_length=5, description="HH:MM local")
    end: str | None = Field(default=None, max_length=5, description="HH:MM local")
    valid_from: date | None = None
    valid_until: date | None = None
    rrule: str | None = Field(default=None, max_length=500)
    dtstart_local: str | None = Field(default=None, max_length=32, description="ISO local datetime")
    duration_minutes: int | None = None
    source: str = Field(default="csv", max_length=32)


class DutyOverride(SQLModel, table=True):
    """A one-off change to the rota: leave (nobody), swap or cover (someone else)."""

    __tablename__ = "duty_overrides"

    id: int | None = Field(default=None, primary_key=True)
    grid_code: str = Field(index=True, max_length=64)
    role: str = Field(default="primary", max_length=16)
    kind: str = Field(max_length=16, description="leave | swap | cover")
    staff_code: str | None = Field(default=None, max_length=64, description="who is on duty instead")
    replaces_staff_code: str | None = Field(default=None, max_length=64)
    starts_at: datetime = Field(sa_type=UTCDateTime)
    ends_at: datetime = Field(sa_type=UTCDateTime)
    reason: str | None = Field(default=None, max_length=300)


class Resident(SQLModel, table=True):
    __tablename__ = "residents"

    id: int | None = Field(default=None, primary_key=True)
    name: str | None = Field(default=None, max_length=100)
    phone: str | None = Field(default=None, index=True, max_length=32)
    grid_code: str | None = Field(default=None, index=True, max_length=64)
    address_id: int | None = Field(default=None, foreign_key="addresses.id")
    address_text: str | None = Field(default=None, max_length=300)
    lat: float | None = None
    lon: float | None = None
    lang: str = Field(default=DEFAULT_LANGUAGE.value, max_length=8)
    sms_opted_out: bool = False
    created_at: datetime = Field(sa_type=UTCDateTime)


class ChannelIdentity(SQLModel, table=True):
    """Who is behind a Telegram user id, a phone number or a web sandbox session."""

    __tablename__ = "channel_identities"
    __table_args__ = (UniqueConstraint("channel", "external_id", "bot_name", name="uq_identity"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=16, description="telegram | sms | voice | web")
    external_id: str = Field(max_length=100)
    bot_name: str = Field(default="", max_length=64)
    resident_id: int | None = Field(default=None, foreign_key="residents.id", index=True)
    staff_id: int | None = Field(default=None, foreign_key="staff.id", index=True)
    display: str | None = Field(default=None, max_length=100, description="handle or name, masked in the console")
    chat_id: str | None = Field(default=None, max_length=64)
    unreachable: bool = False
    created_at: datetime = Field(sa_type=UTCDateTime)
