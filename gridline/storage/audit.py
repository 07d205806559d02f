"""The audit log: who did what to which record, and when."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from gridline.storage.models import AuditLog


def record(
    session: Session,
    *,
    at: datetime,
    actor: str,
    action: str,
    target_kind: str = "",
    target_id: str | int = "",
    detail: dict[str, Any] | None = None,
    ip: str | None = None,
) -> AuditLog:
    """Add an audit entry to ``session`` (committed with the change it describes)."""
    entry = AuditLog(
        at=at,
        actor=actor,
        action=action,
        target_kind=target_kind,
        target_id=str(target_id),
        detail=detail or {},
        ip=ip,
    )
    session.add(entry)
    return entry
