"""Inbound events (the durable inbox): stored once, claimed by one worker, finished or retried.

The only module that queries ``inbound_events`` for the webhooks and the processors; every function
runs inside a unit of work (``gridline.core.work.in_transaction``) and takes its session.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from gridline.storage.models import InboundEvent


def store(session: Session, provider: str, event_key: str, payload: dict[str, Any], now: datetime) -> InboundEvent:
    """Add a new event; the flush raises ``IntegrityError`` if ``(provider, event_key)`` is stored already."""
    event = InboundEvent(provider=provider, event_key=event_key, payload=payload, received_at=now)
    session.add(event)
    session.flush()
    return event


def find(session: Session, provider: str, event_key: str) -> InboundEvent | None:
    """The stored event with this provider's key, if any."""
    return session.exec(
        select(InboundEvent).where(InboundEvent.provider == provider, InboundEvent.event_key == event_key)
    ).first()


def claim(session: Session, event_id: int, now: datetime) -> InboundEvent | None:
    """Take a received event for processing (one worker wins); None if it is not waiting."""
    claimed = session.execute(
        update(InboundEvent)
        .where(col(InboundEvent.id) == event_id, col(InboundEvent.status) == "received")
        .values(status="processing", attempts=InboundEvent.attempts + 1, processed_at=now)
    ).rowcount  # type: ignore[attr-defined]
    if claimed != 1:
        return None
    return session.get(InboundEvent, event_id, populate_existing=True)


def finish(session: Session, event_id: int, now: datetime) -> None:
    """The processor succeeded."""
    row = session.get(InboundEvent, event_id)
    assert row is not None
    row.status, row.processed_at, row.error = "processed", now, None


def retry_later(session: Session, event_id: int, error: str, now: datetime, max_attempts: int) -> None:
    """The processor failed: try again after a backoff, or give up after ``max_attempts``."""
    row = session.get(InboundEvent, event_id)
    assert row is not None
    row.error = error[:2000]
    row.status = "failed" if row.attempts >= max_attempts else "received"
    # processed_at doubles as "not before" for the retry.
    row.processed_at = now + timedelta(seconds=min(600, 5 * 2**row.attempts))
