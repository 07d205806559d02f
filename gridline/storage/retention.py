"""What the retention purge reads: the rows still holding people's words after the retention period.

``gridline.engine.retention`` decides what to clear in each row (its ``INVENTORY``); this module only
finds the rows. Cases in ``open_statuses`` keep their texts (the people handling them need them).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlmodel import Session, col, select

from gridline.storage.models import AuditLog, Case, CaseEvent, ChannelIdentity, InboundEvent, Message, Resident


def messages_with_text(
    session: Session, *, before: datetime, open_statuses: Collection[str], limit: int
) -> list[Message]:
    """Up to ``limit`` messages created before ``before``, not purged yet, of no case or of a case no
    longer open."""
    open_cases = select(Case.id).where(col(Case.status).in_(sorted(open_statuses)))
    return list(
        session.exec(
            select(Message)
            .where(
                col(Message.created_at) < before,
                col(Message.text_purged).is_(False),
                (col(Message.case_id).is_(None)) | (col(Message.case_id).not_in(open_cases)),
            )
            .limit(limit)
        )
    )


def closed_cases_with_text(session: Session, *, before: datetime, open_statuses: Collection[str]) -> list[Case]:
    """Cases created before ``before``, no longer open, that still hold a summary, a rating comment
    or an address."""
    return list(
        session.exec(
            select(Case).where(
                col(Case.created_at) < before,
                col(Case.status).not_in(sorted(open_statuses)),
                (col(Case.summary) != "") | col(Case.rating_comment).is_not(None) | col(Case.address_text).is_not(None),
            )
        )
    )


def events_of_case(session: Session, case_id: int) -> list[CaseEvent]:
    """Every timeline entry of the case (in no particular order)."""
    return list(session.exec(select(CaseEvent).where(CaseEvent.case_id == case_id)))


def inbound_events(session: Session, *, before: datetime) -> list[InboundEvent]:
    """Every inbound event received before ``before``, whatever its status."""
    return list(session.exec(select(InboundEvent).where(col(InboundEvent.received_at) < before)))


def named_identities_silent_since(session: Session, since: datetime) -> list[ChannelIdentity]:
    """Identities with a display name, created before ``since``, with no message since."""
    active = select(Message.identity_id).where(col(Message.created_at) >= since, col(Message.identity_id).is_not(None))
    return list(
        session.exec(
            select(ChannelIdentity).where(
                col(ChannelIdentity.display).is_not(None),
                col(ChannelIdentity.created_at) < since,
                col(ChannelIdentity.id).not_in(active),
            )
        )
    )


def unregistered_named_residents_silent_since(session: Session, since: datetime) -> list[Resident]:
    """Residents who never registered (no grid, no phone) but have a name, created before ``since``,
    with no message since."""
    spoke = select(Message.resident_id).where(col(Message.created_at) >= since, col(Message.resident_id).is_not(None))
    return list(
        session.exec(
            select(Resident).where(
                col(Resident.name).is_not(None),
                col(Resident.grid_code).is_(None),
                col(Resident.phone).is_(None),
                col(Resident.created_at) < since,
                col(Resident.id).not_in(spoke),
            )
        )
    )


def audit_entries(session: Session, *, before: datetime) -> list[AuditLog]:
    """Every audit entry written before ``before``."""
    return list(session.exec(select(AuditLog).where(col(AuditLog.at) < before)))
