"""回访 tasks (``follow_ups``) as the console's follow-up list reads them, each with its case.

The calls placed for a task are ``storage.follow_up_calls``."""

from __future__ import annotations

from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from gridline.storage.models import Case, FollowUp


def open_with_cases(session: Session, *, scope: ColumnElement[bool], limit: int) -> list[tuple[FollowUp, Case]]:
    """回访 tasks not called yet, oldest first, with their cases (those ``scope`` lets through)."""
    rows = session.exec(
        select(FollowUp, Case)
        .join(Case, col(Case.id) == FollowUp.case_id)
        .where(col(FollowUp.called_at).is_(None), scope)
        .order_by(col(FollowUp.created_at))
        .limit(limit)
    ).all()
    return [(task, case) for task, case in rows]


def with_case(session: Session, task_id: int, *, scope: ColumnElement[bool]) -> tuple[FollowUp, Case] | None:
    """The 回访 task and its case, if ``scope`` lets the case through."""
    found = session.exec(
        select(FollowUp, Case).join(Case, col(Case.id) == FollowUp.case_id)
        .where(FollowUp.id == task_id, scope)
    ).first()  # fmt: skip
    return (found[0], found[1]) if found is not None else None
