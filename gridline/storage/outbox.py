"""Outgoing messages (``messages`` with direction ``out``): claims and provider lookups for delivery.

Like pages, a message is claimed (queued → sending) by one conditional UPDATE.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, update
from sqlmodel import Session, col, select

from gridline.domain.lifecycle import MESSAGE, MessageStatus
from gridline.storage.models import Message


def get(session: Session, message_id: int) -> Message | None:
    return session.get(Message, message_id)


def claim_for_sending(session: Session, message_id: int, *, now: datetime) -> Message | None:
    """The message, claimed (queued → sending); None when it is not queued or not due yet."""
    claimed = session.execute(
        update(Message)
        .where(
            col(Message.id) == message_id,
            col(Message.status) == MESSAGE.guard(MessageStatus.QUEUED, MessageStatus.SENDING),
            or_(col(Message.next_attempt_at).is_(None), col(Message.next_attempt_at) <= now),
        )
        .values(status=MessageStatus.SENDING.value, claimed_at=now)
    ).rowcount  # type: ignore[attr-defined]
    if claimed != 1:
        return None
    return session.get(Message, message_id, populate_existing=True)


def by_provider_message_id(session: Session, provider_message_id: str) -> Message | None:
    """The outgoing message a provider knows as ``provider_message_id``."""
    return session.exec(
        select(Message).where(Message.provider_message_id == provider_message_id, Message.direction == "out")
    ).first()
