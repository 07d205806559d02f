"""Console sessions: server-side, so that logging out (or an admin) really ends a session.

The cookie carries a random token signed with ``server.secret_key``; only its SHA-256 is stored,
so a copy of the database does not hand out live sessions.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from gridline.storage.types import UTCDateTime


class ConsoleSession(SQLModel, table=True):
    __tablename__ = "console_sessions"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(unique=True, index=True, max_length=64)
    user_id: int = Field(foreign_key="console_users.id", index=True)
    # Every form of this session carries this token; every POST is checked against it.
    csrf_token: str = Field(max_length=64)
    created_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime, index=True)
    last_seen_at: datetime = Field(sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    ip: str | None = Field(default=None, max_length=64)
    user_agent: str | None = Field(default=None, max_length=300)
