"""The staff web inbox: browsers subscribed to web push, and one-time sign-in links.

A push subscription is what a browser's push service hands out (an endpoint URL and the two keys
that encrypt the message for that browser). A sign-in link is stored here only as the SHA-256 of its
token (the outbox message that carried it is blanked once it is used); ``used_at`` makes it single-use.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from gridline.storage.types import UTCDateTime


class PushSubscription(SQLModel, table=True):
    __tablename__ = "push_subscriptions"

    id: int | None = Field(default=None, primary_key=True)
    staff_id: int = Field(foreign_key="staff.id", index=True)
    endpoint: str = Field(max_length=1000, unique=True, index=True)
    p256dh: str = Field(max_length=200)
    auth: str = Field(max_length=100)
    user_agent: str | None = Field(default=None, max_length=300)
    created_at: datetime = Field(sa_type=UTCDateTime)
    last_push_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    failures: int = 0


class InboxLoginLink(SQLModel, table=True):
    __tablename__ = "inbox_login_links"

    id: int | None = Field(default=None, primary_key=True)
    staff_id: int = Field(foreign_key="staff.id", index=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    channel: str = Field(max_length=16)
    created_at: datetime = Field(sa_type=UTCDateTime, index=True)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
