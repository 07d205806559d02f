"""The durable inbox: a webhook's payload is stored before it is answered, processed afterwards.

``(provider, event_key)`` is unique, so a provider retrying the same update or MessageSid stores it
once. Processing failures are retried with backoff by the engine's reconciler; after
``RESCUE_AFTER_ATTEMPTS`` the message is rescued (``core.rescue``): kept, answered, triaged. Nothing is dropped.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from gridline.core.inbox_writer import writer_for
from gridline.core.rescue import RESCUE_AFTER_ATTEMPTS, Unprocessable, rescue_inbound
from gridline.edge.text import clean_payload, clean_text
from gridline.kernel.work import Work, in_transaction, processing_inbound, replayable
from gridline.storage import inbox
from gridline.storage.models import InboundEvent

if TYPE_CHECKING:
    from gridline.kernel.services import Services

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 8


async def receive_event(
    services: Services, provider: str, event_key: str, payload: dict[str, Any], *, clean: bool = False
) -> tuple[InboundEvent, bool]:
    """Store an inbound provider event once; queue its processing. Returns (event, is_new): the
    event as stored now, or (a repeat) the one stored before.

    ``clean``: the caller knows the payload holds no control character (``edge.text.json_text_is_clean``
    on the JSON it was parsed from), so it is not walked again."""
    event_key = clean_text(event_key)[:128]
    if not clean:
        payload = clean_payload(payload)
    event_id, is_new = await store_event(services, provider, event_key, payload, clean=True)
    if not is_new:
        stored = await in_transaction(services, _get, event_id)
        assert stored is not None, "a stored event is never deleted while its provider may repeat it"
        return stored, False
    return InboundEvent(id=event_id, provider=provider, event_key=event_key, payload=payload,
                        received_at=services.clock.now(), status="received", attempts=0), True


async def store_event(
    services: Services, provider: str, event_key: str, payload: dict[str, Any], *, clean: bool = False
) -> tuple[int, bool]:
    """:func:`receive_event` for the webhook lanes, which need no event back: (its id, is_new).

    ``clean``: the caller knows the payload holds no control character (``edge.text.json_text_is_clean``
    on the JSON it was parsed from) and ``event_key`` is clean and at most 128 characters, so neither
    is walked again."""
    if not clean:
        event_key = clean_text(event_key)[:128]
        # NUL and the other control characters go here, for every provider, before anything is stored
        # or parsed by a library (PostgreSQL refuses NUL in text; nobody types it).
        payload = clean_payload(payload)
    # One INSERT … ON CONFLICT DO NOTHING in a short transaction shared with the webhooks arriving at
    # the same time (group commit, ``inbox_writer``), and nothing before it: the unique key makes a
    # provider's retry a no-op, as cheap as asking Redis whether the key was seen (which cost a round
    # trip before every new row, and another after it) and right even when Redis is down or flushed.
    return await writer_for(services).store(provider, event_key, payload)


def _get(work: Work, event_id: int) -> InboundEvent | None:
    return work.session.get(InboundEvent, event_id)


@replayable
def _claim(work: Work, event_id: int) -> InboundEvent | None:
    return inbox.claim(work.session, event_id, work.now)


@replayable
def _finish(work: Work, event_id: int) -> None:
    inbox.finish(work.session, event_id, work.now)


@replayable
def _retry_later(work: Work, event_id: int, error: str) -> None:
    inbox.retry_later(work.session, event_id, error, work.now, MAX_ATTEMPTS)


async def process_inbound(services: Services, event_id: int) -> str:
    """Run the processor registered for the event's provider prefix; retry later on failure."""
    event = await in_transaction(services, _claim, event_id)
    if event is None:
        return "not claimed"
    prefix = event.provider.split(":", 1)[0]
    processor = services.inbound_processors.get(prefix)
    # The unit of work that stores the event's message finishes the event in its own transaction
    # (``kernel.work.finish_inbound_with``); only an event whose processing stored no message (a
    # button, a duplicate, a refusal) is finished by a transaction of its own afterwards.
    failure: Exception | None = None
    with processing_inbound(event_id, inbox.finish) as flight:
        try:
            if processor is None:
                raise LookupError(f"no inbound processor for {prefix!r}")
            await processor(services, event)
        except Exception as exc:
            log.exception("processing inbound event %s (%s) failed", event_id, event.provider)
            failure = exc
    if failure is not None:  # handled outside the flight: a rescue stores the message anew
        return await _failed(services, event, failure, stored=flight.finished)
    if not flight.finished:
        await in_transaction(services, _finish, event_id)
    return "processed"


async def _failed(services: Services, event: InboundEvent, exc: Exception, *, stored: bool) -> str:
    event_id = event.id or 0
    error = f"{type(exc).__name__}: {exc}"[:2000]
    if stored:
        # The message is stored and the event finished with it: processing it again would find the
        # message already received and do nothing more (as before, when it was retried), so it is
        # not retried; the error is kept on the event for the operator.
        await in_transaction(services, _note_error, event_id, error)
        return "failed after storing"
    hopeless = isinstance(exc, Unprocessable)
    if (hopeless or event.attempts >= RESCUE_AFTER_ATTEMPTS) and await _rescue(services, event, error):
        return "rescued"
    if hopeless:  # nothing a person said is in it: kept as it came, with the reason
        await in_transaction(services, _unreadable, event_id, error)
        return "unreadable"
    await in_transaction(services, _retry_later, event_id, error)
    return "failed"


def _note_error(work: Work, event_id: int, error: str) -> None:
    inbox.note_error(work.session, event_id, error)


def _unreadable(work: Work, event_id: int, error: str) -> None:
    inbox.finish(work.session, event_id, work.now)
    inbox.note_error(work.session, event_id, error)


def _rescued(work: Work, event_id: int, error: str) -> None:
    inbox.rescued(work.session, event_id, error, work.now)


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
    await in_transaction(services, _rescued, event.id or 0, error)
    return True
