"""Inbound events (the durable inbox): stored once, claimed by one worker, finished or retried.

The only module that queries ``inbound_events`` for the webhooks and the processors; every function
runs inside a unit of work (``gridline.kernel.work.in_transaction``) and takes its session.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from gridline.domain.lifecycle import INBOUND, InboundStatus
from gridline.storage.models import InboundEvent

Arrival = tuple[str, str, dict[str, Any]]  # (provider, event_key, payload)


def store_once(session: Session, arrivals: list[Arrival], now: datetime) -> list[tuple[InboundEvent, bool]]:
    """Store each arriving event unless its ``(provider, event_key)`` is there already; for each, in
    order, ``(event, True)`` when it is new or ``(the stored event, False)`` for a repeat (also a
    repeat within ``arrivals``).

    One ``INSERT … VALUES (…), (…) ON CONFLICT DO NOTHING RETURNING`` for all of them: a repeat costs no
    exception and no rolled-back transaction, a new event no ORM flush. On PostgreSQL a concurrent
    insert of the same key waits for the other transaction, then does nothing, and ``find`` sees it.
    """
    table = InboundEvent.__table__  # type: ignore[attr-defined]
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for provider, event_key, payload in arrivals:
        rows.setdefault((provider, event_key), {"provider": provider, "event_key": event_key, "payload": payload,
                                                "received_at": now, "status": "received", "attempts": 0})
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = (dialect.insert(table).values(list(rows.values()))
                 .on_conflict_do_nothing(index_elements=["provider", "event_key"])
                 .returning(table.c.id, table.c.provider, table.c.event_key))
    new = {(provider, key): event_id for event_id, provider, key in session.execute(statement)}
    out: list[tuple[InboundEvent, bool]] = []
    told_new: set[tuple[str, str]] = set()
    stored: dict[tuple[str, str], InboundEvent] = {}
    for provider, event_key, _ in arrivals:
        key = (provider, event_key)
        if key in new and key not in told_new:
            told_new.add(key)
            out.append((InboundEvent(id=new[key], **rows[key]), True))
            continue
        if key not in stored:
            found = InboundEvent(id=new[key], **rows[key]) if key in new else find(session, provider, event_key)
            assert found is not None, "a conflicting row must exist once ON CONFLICT skipped the insert"
            stored[key] = found
        out.append((stored[key], False))
    return out


def find(session: Session, provider: str, event_key: str) -> InboundEvent | None:
    """The stored event with this provider's key, if any."""
    return session.exec(
        select(InboundEvent).where(InboundEvent.provider == provider, InboundEvent.event_key == event_key)
    ).first()


def claim(session: Session, event_id: int, now: datetime) -> InboundEvent | None:
    """Take a received event for processing (one worker wins); None if it is not waiting."""
    claimed = session.execute(
        update(InboundEvent)
        .where(
            col(InboundEvent.id) == event_id,
            col(InboundEvent.status) == INBOUND.guard(InboundStatus.RECEIVED, InboundStatus.PROCESSING),
        )
        .values(status=InboundStatus.PROCESSING.value, attempts=InboundEvent.attempts + 1, processed_at=now)
    ).rowcount  # type: ignore[attr-defined]
    if claimed != 1:
        return None
    return session.get(InboundEvent, event_id, populate_existing=True)


def finish(session: Session, event_id: int, now: datetime) -> None:
    """The processor succeeded."""
    row = session.get(InboundEvent, event_id)
    assert row is not None
    INBOUND.move(row, InboundStatus.PROCESSED, now)
    row.processed_at, row.error = now, None


def note_error(session: Session, event_id: int, error: str) -> None:
    """Why a finished event carried nothing to act on (kept for the operator)."""
    row = session.get(InboundEvent, event_id)
    assert row is not None
    row.error = error[:2000]


def rescued(session: Session, event_id: int, error: str, now: datetime) -> None:
    """The processor kept failing and ``core.rescue`` kept, answered and triaged the message instead."""
    row = session.get(InboundEvent, event_id)
    assert row is not None
    INBOUND.move(row, InboundStatus.RESCUED, now)
    row.processed_at, row.error = now, error[:2000]


def retry_later(session: Session, event_id: int, error: str, now: datetime, max_attempts: int) -> None:
    """The processor failed: try again after a backoff, or give up after ``max_attempts``."""
    row = session.get(InboundEvent, event_id)
    assert row is not None
    row.error = error[:2000]
    INBOUND.move(row, InboundStatus.FAILED if row.attempts >= max_attempts else InboundStatus.RECEIVED, now)
    # processed_at doubles as "not before" for the retry.
    row.processed_at = now + timedelta(seconds=min(600, 5 * 2**row.attempts))
