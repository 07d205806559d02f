"""The audit log, console accounts and one-time staff link codes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Field, SQLModel

from gridline.i18n import DEFAULT_LANGUAGE
from gridline.storage.types import JSONType, UTCDateTime


class AuditLog(SQLModel, table=True):
    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_type=UTCDateTime, index=True)
    actor: str = Field(max_length=100, description="console:<user> | staff:<code> | system | cli")
    action: str = Field(index=True, max_length=64)
    target_kind: str = Field(default="", max_length=32)
    target_id: str = Field(default="", max_length=64)
    detail: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    ip: str | None = Field(default=None, max_length=64)


class ConsoleUser(SQLModel, table=True):
    __tablename__ = "console_users"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, index=True, max_length=100)
    password_hash: str = Field(max_length=300)
    role: str = Field(max_length=16, description="admin | supervisor | leader | auditor")
    grid_code: str | None = Field(default=None, max_length=64)
    staff_code: str | None = Field(default=None, max_length=64)
    lang: str = Field(default=DEFAULT_LANGUAGE.value, max_length=8)
    failed_logins: int = 0
    locked_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_login_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(sa_type=UTCDateTime)


class StaffLinkCode(SQLModel, table=True):
    """A one-time code linking a staff record to a Telegram account (``/start <code>``)."""

    __tablename__ = "staff_link_codes"

    id: int | None = Field(default=None, primary_key=True)
    staff_id: int = Field(foreign_key="staff.id", index=True)
    code_hash: str = Field(unique=True, max_length=128)
    created_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
