"""Counts for the Prometheus gauges and the database health check, read at scrape time.

Read from the database rather than kept in memory, so every process of a deployment reports the same
truth.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, text
from sqlmodel import Session, select

from gridline.storage.models import AuditLog, Case, EscalationStep, InboundEvent, Message, Page


@dataclass
class Counts:
    cases: list[tuple[str, str, int]]  # status, priority, count
    pages: list[tuple[str, str, int]]  # channel, status, count
    steps_pending: int
    steps_overdue: int
    outbox_queued: int
    inbox_unprocessed: int
    possibly_twice: int


def ping(session: Session) -> None:
    """One round trip: raises if the database cannot answer."""
    session.execute(text("select 1"))


def read_counts(session: Session, now: datetime, possibly_twice_action: str) -> Counts:
    """``possibly_twice_action``: the audit action of a send made again where the provider could not be asked."""

    def count(*where: Any) -> int:
        return int(session.exec(select(func.count()).where(*where)).one())

    return Counts(
        cases=[(s, p, int(n)) for s, p, n in session.exec(
            select(Case.status, Case.priority, func.count()).group_by(Case.status, Case.priority)
        )],
        pages=[(c, s, int(n)) for c, s, n in session.exec(
            select(Page.channel, Page.status, func.count()).group_by(Page.channel, Page.status)
        )],
        steps_pending=count(EscalationStep.status == "pending"),
        steps_overdue=count(EscalationStep.status == "pending", EscalationStep.due_at <= now),
        outbox_queued=count(Message.status == "queued"),
        inbox_unprocessed=count(InboundEvent.status == "received"),
        possibly_twice=count(AuditLog.action == possibly_twice_action),
    )
