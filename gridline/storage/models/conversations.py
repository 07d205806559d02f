"""Everything residents and staff send and receive, and the raw provider events behind it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from gridline.i18n import DEFAULT_LANGUAGE
from gridline.storage.types import JSONType, UTCDateTime


class InboundEvent(SQLModel, table=True):
    """A provider webhook stored before it is answered: the durable inbox.

    ``(provider, event_key)`` is unique, so a repeated ``update_id`` / ``MessageSid`` is stored once.
    """

    __tablename__ = "inbound_events"
    __table_args__ = (UniqueConstraint("provider", "event_key", name="uq_inbound_event"),)

    id: int | None = Field(default=None, primary_key=True)
    provider: str = Field(max_length=64, description="telegram:<bot> | twilio:sms | twilio:voice | web")
    event_key: str = Field(max_length=128)
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    received_at: datetime = Field(sa_type=UTCDateTime)
    status: str = Field(default="received", index=True, max_length=16, description="received | processed | failed")
    attempts: int = 0
    processed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    error: str | None = Field(default=None, sa_column=Column(Text))


class Conversation(SQLModel, table=True):
    __tablename__ = "conversations"

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(index=True, max_length=16)
    identity_id: int | None = Field(default=None, foreign_key="channel_identities.id", index=True)
    resident_id: int | None = Field(default=None, foreign_key="residents.id", index=True)
    staff_id: int | None = Field(default=None, foreign_key="staff.id", index=True)
    started_at: datetime = Field(sa_type=UTCDateTime)
    last_message_at: datetime = Field(sa_type=UTCDateTime, index=True)
    # Where the conversation stands (a question Gridline asked, the options it offered), read and
    # written in the message's own transactions: the truth, so a Redis outage cannot lose it.
    state: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    state_expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Message(SQLModel, table=True):
    """One message in or out. Outbound messages to residents double as the delivery outbox."""

    __tablename__ = "messages"

    id: int | None = Field(default=None, primary_key=True)
    conversation_id: int | None = Field(default=None, foreign_key="conversations.id", index=True)
    case_id: int | None = Field(default=None, foreign_key="cases.id", index=True)
    direction: str = Field(max_length=3, description="in | out")
    channel: str = Field(index=True, max_length=16)
    sender_kind: str = Field(default="resident", max_length=16, description="resident | staff | system")
    resident_id: int | None = Field(default=None, foreign_key="residents.id", index=True)
    staff_id: int | None = Field(default=None, foreign_key="staff.id", index=True)
    identity_id: int | None = Field(default=None, foreign_key="channel_identities.id")
    provider_message_id: str | None = Field(default=None, index=True, max_length=128)
    text: str | None = Field(default=None, sa_column=Column(Text))
    # An outbound message's catalogue key and facts (``gridline.i18n.phrases``) beside its text: the
    # sending channel renders its own variant (voice, SMS), the console shows ``text``.
    text_key: str | None = Field(default=None, max_length=80)
    text_params: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    media: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSONType)
    # Buttons / choices offered with an outbound message: [{"label": ..., "data": ...}]
    options: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSONType)
    nlu: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    intent: str | None = Field(default=None, index=True, max_length=64)
    confidence: float | None = None
    lang: str = Field(default=DEFAULT_LANGUAGE.value, max_length=8)
    created_at: datetime = Field(sa_type=UTCDateTime, index=True)
    # Delivery of outbound messages.
    status: str = Field(
        default="received",
        max_length=16,
        description="received | queued | sending | sent | delivered | failed | cancelled",
    )
    status_seq: int = 0
    attempts: int = 0
    next_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    error: str | None = Field(default=None, max_length=500)
    text_purged: bool = False
    # What the outbound message is (``storage.pacing.MessageKind``): bulk kinds are paced in their
    # sender's ``lane`` (``next_attempt_at`` = their send time), the others go out at once.
    kind: str = Field(default="reply", max_length=16)
    lane: str | None = Field(default=None, max_length=100)
    broadcast_id: int | None = Field(default=None, foreign_key="broadcasts.id", index=True)


class NluCorrection(SQLModel, table=True):
    """A supervisor's corrected intent for a stored message: future training data."""

    __tablename__ = "nlu_corrections"

    id: int | None = Field(default=None, primary_key=True)
    message_id: int = Field(foreign_key="messages.id", index=True)
    text: str = Field(sa_column=Column(Text, nullable=False))
    original_intent: str | None = Field(default=None, max_length=64)
    corrected_intent: str = Field(max_length=64)
    corrected_by: str = Field(max_length=100)
    created_at: datetime = Field(sa_type=UTCDateTime)
    exported_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
