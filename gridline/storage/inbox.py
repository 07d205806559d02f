"""Inbound events (the durable inbox): stored once, claimed by one worker, finished or retried.

The only module that queries ``inbound_events`` for the webhooks and the processors; every function
runs inside a unit of work (``gridline.core.work.in_transaction``) and takes its session.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from gridline.storage.models import InboundEvent


def store_once(
    session: Session, provider: str, event_key: str, payload: dict[str, Any], now: datetime
) -> tuple[InboundEvent, bool]:
    """Store the event unless ``(provider, event_key)`` is there already: ``(event, True)`` when new,
    ``(the stored event, False)`` for a repeat.

    One ``INSERT … ON CONFLICT DO NOTHING RETURNING id``: a repeat costs no exception, no rolled-back
    transaction and no second one, and a new event no ORM flush. On PostgreSQL a concurrent insert of
    the same key waits for the other transaction, then does nothing, and ``find`` sees its row.
    """
    table = InboundEvent.__table__  # type: ignore[attr-defined]
    values: dict[str, Any] = {"provider": provider, "event_key": event_key, "payload": payload,
                              "received_at": now, "status": "received", "attempts": 0}
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = (dialect.insert(table).values(**values)
                 .on_conflict_do_nothing(index_elements=["provider", "event_key"]).returning(table.c.id))
    new_id = session.execute(statement).scalar_one_or_none()
    if new_id is not None:
        return InboundEvent(id=new_id, **values), True
    stored = find(session, provider, event_key)
    assert stored is not None, "a conflicting row must exist once ON CONFLICT skipped the insert"
    return stored, False


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


def note_error(session: Session, event_id: int, error: str) -> None:
    """Why a finished event carried nothing to act on (kept for the operator)."""
    row = session.get(InboundEvent, event_id)
    assert row is not None
    row.error = error[:2000]


def rescued(session: Session, event_id: int, error: str, now: datetime) -> None:
    """The processor kept failing and ``core.rescue`` kept, answered and triaged the message instead."""
    row = session.get(InboundEvent, event_id)
    assert row is not None
    row.status, row.processed_at, row.error = "rescued", now, error[:2000]


def retry_later(session: Session, event_id: int, error: str, now: datetime, max_attempts: int) -> None:
    """The processor failed: try again after a backoff, or give up after ``max_attempts``."""
    row = session.get(InboundEvent, event_id)
    assert row is not None
    row.error = error[:2000]
    row.status = "failed" if row.attempts >= max_attempts else "received"
    # processed_at doubles as "not before" for the retry.
    row.processed_at = now + timedelta(seconds=min(600, 5 * 2**row.attempts))
