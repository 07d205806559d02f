"""The sandbox's inbound processor: a stored web event becomes an InboundMessage for the core.

The same path as Telegram: the HTTP endpoint stores the event in the durable inbox
(:func:`gridline.core.inbox.receive_event`), a job calls :func:`process_web_event`, which hands the
message to :func:`gridline.core.conversation.handle_inbound`. Replies come back through the outbox
and :class:`gridline.bots.web.notifier.WebNotifier`.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from gridline.bots.web.identities import ensure_resident_identity
from gridline.core.conversation import handle_inbound
from gridline.i18n import language_of_text
from gridline.kernel.messages import InboundMessage
from gridline.kernel.work import Work, in_transaction
from gridline.storage.models import InboundEvent, Resident

if TYPE_CHECKING:
    from gridline.kernel.services import Services

log = logging.getLogger(__name__)
PROVIDER = "web:sandbox"
PREFIX = "web"


def inbound_message(event: InboundEvent) -> InboundMessage:
    """Translate a stored sandbox payload (see ``ResidentMessageIn.to_payload``) into a message."""
    payload = event.payload
    location = payload.get("location")
    return InboundMessage(
        channel="web",
        external_id=str(payload["external_id"]),
        text=payload.get("text"),
        choice=payload.get("choice"),
        location=(float(location[0]), float(location[1])) if location else None,
        command=payload.get("command"),
        command_args=str(payload.get("command_args") or ""),
        # The page says which language it shows; an API client that does not is answered in the
        # language its words are written in, as an SMS is (only a new visitor's language is set so).
        lang=payload.get("lang") or language_of_text(payload.get("text")),
        provider_message_id=event.event_key,
        received_at=event.received_at,
    )


def read_web_event(event: InboundEvent) -> InboundMessage | None:
    """The bare facts of a stored sandbox message for ``core.rescue``."""
    external_id, text = event.payload.get("external_id"), event.payload.get("text")
    if not external_id:
        return None
    return InboundMessage(
        channel="web",
        external_id=str(external_id),
        text=text if isinstance(text, str) else None,
        provider_message_id=event.event_key,
    )


def _link_demo_resident(work: Work, resident_id: int) -> None:
    resident = work.session.get(Resident, resident_id)
    if resident is None:
        raise LookupError(f"demo resident {resident_id} is gone")
    ensure_resident_identity(work.session, resident, work.now)


async def process_web_event(services: Services, event: InboundEvent) -> None:
    """Link a demo resident's web identity if needed, then let the conversation core handle it."""
    resident_id = event.payload.get("resident_id")
    if resident_id is not None:
        await in_transaction(services, _link_demo_resident, int(resident_id))
    outcome = await handle_inbound(services, inbound_message(event))
    if outcome.staff_id is not None:
        # Web identities are only ever created for residents; a staff link would be a data error.
        log.warning("web event %s came from staff %s; staff use the inbox buttons", event.id, outcome.staff_id)
