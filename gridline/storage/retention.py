"""The rows whose words the retention period removes (see ``gridline.console.retention``)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlmodel import Session, col, select

from gridline.storage.models import Case, CaseEvent, InboundEvent, Message


def messages_with_text_before(
    session: Session, cutoff: datetime, *, open_statuses: Collection[str], limit: int
) -> list[Message]:
    """Up to ``limit`` messages older than ``cutoff`` that still have their text, outside open cases."""
    open_cases = select(Case.id).where(col(Case.status).in_(sorted(open_statuses)))
    return list(
        session.exec(
            select(Message)
            .where(
                col(Message.created_at) < cutoff,
                col(Message.text_purged).is_(False),
                (col(Message.case_id).is_(None)) | (col(Message.case_id).not_in(open_cases)),
            )
            .limit(limit)
        )
    )


def finished_cases_with_text_before(
    session: Session, cutoff: datetime, *, open_statuses: Collection[str]
) -> list[Case]:
    """Cases older than ``cutoff``, no longer open, that still carry a summary, comment or address."""
    return list(
        session.exec(
            select(Case).where(
                col(Case.created_at) < cutoff,
                col(Case.status).not_in(sorted(open_statuses)),
                (col(Case.summary) != "") | col(Case.rating_comment).is_not(None) | col(Case.address_text).is_not(None),
            )
        )
    )


def staff_replies(session: Session, case_id: int) -> list[CaseEvent]:
    """The case's timeline entries that relay a leader's words."""
    return list(session.exec(select(CaseEvent).where(CaseEvent.case_id == case_id, CaseEvent.kind == "staff_reply")))


def processed_inbound_before(session: Session, cutoff: datetime) -> list[InboundEvent]:
    """Inbound events received before ``cutoff`` and already processed."""
    return list(
        session.exec(
            select(InboundEvent).where(col(InboundEvent.received_at) < cutoff, InboundEvent.status == "processed")
        )
    )
