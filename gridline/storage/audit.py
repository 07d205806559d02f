"""The audit log: who did what to which record, and when."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

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


def listing(
    session: Session,
    *,
    scope: ColumnElement[bool] | None,
    actor_like: str | None,
    action_like: str | None,
    page: int,
    page_size: int,
) -> tuple[list[AuditLog], int, int]:
    """One page of the log, newest first, within ``scope`` and matching the LIKE patterns (escaped
    with ``\\``): (entries, total, the page shown — the last one when ``page`` is past it)."""
    stmt = select(AuditLog)
    if scope is not None:
        stmt = stmt.where(scope)
    if actor_like:
        stmt = stmt.where(col(AuditLog.actor).ilike(actor_like, escape="\\"))
    if action_like:
        stmt = stmt.where(col(AuditLog.action).ilike(action_like, escape="\\"))
    total = session.exec(select(func.count()).select_from(stmt.subquery())).one()
    pages = max(1, (total + page_size - 1) // page_size)
    page = min(page, pages)
    entries = session.exec(
        stmt.order_by(col(AuditLog.at).desc(), col(AuditLog.id).desc()).offset((page - 1) * page_size).limit(page_size)
    ).all()
    return list(entries), total, page


def about(session: Session, target_kind: str, target_id: str | int) -> list[AuditLog]:
    """Every entry about one record, oldest first."""
    return list(
        session.exec(
            select(AuditLog)
            .where(AuditLog.target_kind == target_kind, AuditLog.target_id == str(target_id))
            .order_by(col(AuditLog.at), col(AuditLog.id))
        )
    )
