"""The durable inbox: a webhook's payload is stored before it is answered, processed afterwards.

``(provider, event_key)`` is unique, so a provider retrying the same update or MessageSid stores it
once. Processing failures are retried with backoff by the engine's reconciler; nothing is dropped.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import IntegrityError

from gridline.core.work import Work, in_transaction
from gridline.storage import inbox
from gridline.storage.models import InboundEvent

if TYPE_CHECKING:
    from gridline.core.services import Services

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 8


def _store(work: Work, provider: str, event_key: str, payload: dict[str, Any]) -> InboundEvent:
    event = inbox.store(work.session, provider, event_key, payload, work.now)
    work.job("process_inbound", f"inbound:{event.id}", None, event_id=event.id)
    return event


def _find(work: Work, provider: str, event_key: str) -> InboundEvent | None:
    return inbox.find(work.session, provider, event_key)


async def receive_event(
    services: Services, provider: str, event_key: str, payload: dict[str, Any]
) -> tuple[InboundEvent, bool]:
    """Store an inbound provider event once; queue its processing. Returns (event, is_new)."""
    event_key = event_key[:128]
    # Redis remembers recent keys so a provider's retry storm does not reach the database; the key is
    # set only after the row is stored, so a hint never hides an event that was not kept.
    hint = f"idem:{provider}:{event_key}"
    if await services.state.get(hint) is not None:
        existing = await in_transaction(services, _find, provider, event_key)
        if existing is not None:
            return existing, False
    try:
        event = await in_transaction(services, _store, provider, event_key, payload)
    except IntegrityError:
        found = await in_transaction(services, _find, provider, event_key)
        assert found is not None
        return found, False
    await services.state.set(hint, {"id": event.id}, services.settings.redis.idempotency_ttl_seconds)
    return event, True


def _claim(work: Work, event_id: int) -> InboundEvent | None:
    return inbox.claim(work.session, event_id, work.now)


def _finish(work: Work, event_id: int) -> None:
    inbox.finish(work.session, event_id, work.now)


def _retry_later(work: Work, event_id: int, error: str) -> None:
    inbox.retry_later(work.session, event_id, error, work.now, MAX_ATTEMPTS)


async def process_inbound(services: Services, event_id: int) -> str:
    """Run the processor registered for the event's provider prefix; retry later on failure."""
    event = await in_transaction(services, _claim, event_id)
    if event is None:
        return "not claimed"
    prefix = event.provider.split(":", 1)[0]
    processor = services.inbound_processors.get(prefix)
    try:
        if processor is None:
            raise LookupError(f"no inbound processor for {prefix!r}")
        await processor(services, event)
    except Exception as exc:
        log.exception("processing inbound event %s (%s) failed", event_id, event.provider)
        await in_transaction(services, _retry_later, event_id, f"{type(exc).__name__}: {exc}")
        return "failed"
    await in_transaction(services, _finish, event_id)
    return "processed"
