"""The durable inbox: a webhook's payload is stored before it is answered, processed afterwards.

``(provider, event_key)`` is unique, so a provider retrying the same update or MessageSid stores it
once. Processing failures are retried with backoff by the engine's reconciler; after
``RESCUE_AFTER_ATTEMPTS`` the message is rescued (``core.rescue``): kept, answered, triaged. Nothing is dropped.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from gridline.core.rescue import RESCUE_AFTER_ATTEMPTS, rescue_inbound
from gridline.edge.text import clean_payload, clean_text
from gridline.storage.models import InboundEvent

if TYPE_CHECKING:
    from gridline.core.services import Services

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 8


async def receive_event(
    services: Services, provider: str, event_key: str, payload: dict[str, Any]
) -> tuple[InboundEvent, bool]:
    """Store an inbound provider event once; queue its processing. Returns (event, is_new)."""
    now = services.clock.now()
    event_key = clean_text(event_key)[:128]
    # Redis remembers recent keys so a provider's retry storm does not reach the database; the key is
    # set only after the row is stored, so a hint never hides an event that was not kept.
    hint = f"idem:{provider}:{event_key}"
    if await services.state.get(hint) is not None:
        existing = _find(services, provider, event_key)
        if existing is not None:
            return existing, False
    # NUL and the other control characters go here, for every provider, before anything is stored or
    # parsed by a library (PostgreSQL refuses NUL in text; nobody types it).
    payload = clean_payload(payload)
    event = InboundEvent(provider=provider, event_key=event_key, payload=payload, received_at=now)
    try:
        with services.db.session() as session:
            session.add(event)
    except IntegrityError:
        found = _find(services, provider, event_key)
        assert found is not None
        return found, False
    await services.state.set(hint, {"id": event.id}, services.settings.redis.idempotency_ttl_seconds)
    await services.jobs.enqueue("process_inbound", f"inbound:{event.id}", None, event_id=event.id)
    return event, True


def _find(services: Services, provider: str, event_key: str) -> InboundEvent | None:
    with services.db.session() as session:
        return session.exec(
            select(InboundEvent).where(InboundEvent.provider == provider, InboundEvent.event_key == event_key)
        ).first()


async def process_inbound(services: Services, event_id: int) -> str:
    """Run the processor registered for the event's provider prefix; retry later on failure."""
    now = services.clock.now()
    with services.db.session() as session:
        claimed = session.execute(
            update(InboundEvent)
            .where(col(InboundEvent.id) == event_id, col(InboundEvent.status) == "received")
            .values(status="processing", attempts=InboundEvent.attempts + 1, processed_at=now)
        ).rowcount  # type: ignore[attr-defined]
        if claimed != 1:
            return "not claimed"
        event = session.get(InboundEvent, event_id, populate_existing=True)
        assert event is not None
    prefix = event.provider.split(":", 1)[0]
    processor = services.inbound_processors.get(prefix)
    try:
        if processor is None:
            raise LookupError(f"no inbound processor for {prefix!r}")
        await processor(services, event)
    except Exception as exc:
        log.exception("processing inbound event %s (%s) failed", event_id, event.provider)
        error = f"{type(exc).__name__}: {exc}"[:2000]
        if event.attempts >= RESCUE_AFTER_ATTEMPTS and await _rescue(services, event, error):
            return "rescued"
        with services.db.session() as session:
            row = session.get(InboundEvent, event_id)
            assert row is not None
            row.error = error
            row.status = "failed" if row.attempts >= MAX_ATTEMPTS else "received"
            # processed_at doubles as "not before" for the retry.
            row.processed_at = services.clock.now() + timedelta(seconds=min(600, 5 * 2**row.attempts))
        return "failed"
    _finish(services, event_id, "processed", None)
    return "processed"


async def _rescue(services: Services, event: InboundEvent, error: str) -> bool:
    """Processing keeps failing: keep, answer and triage the message the plain way (``core.rescue``)."""
    reader = services.inbound_readers.get(event.provider.split(":", 1)[0])
    try:
        msg = reader(event) if reader is not None else None
        if msg is None:
            return False
        await rescue_inbound(services, msg, error)
    except Exception:
        log.exception("rescuing inbound event %s (%s) failed too; it will be retried", event.id, event.provider)
        return False
    _finish(services, event.id or 0, "rescued", error)
    return True


def _finish(services: Services, event_id: int, status: str, error: str | None) -> None:
    with services.db.session() as session:
        row = session.get(InboundEvent, event_id)
        assert row is not None
        row.status = status
        row.processed_at = services.clock.now()
        row.error = error
