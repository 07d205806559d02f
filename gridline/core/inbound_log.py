"""The conversation log: every inbound message stored (even those not answered), and what we offered."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from sqlmodel import col, select

from gridline.core.identify import Sender, identify
from gridline.core.messages import InboundMessage, Outcome
from gridline.core.work import Work, unit_of_work
from gridline.nlu.types import NluResult
from gridline.storage.models import Message

if TYPE_CHECKING:
    from gridline.core.services import Services

log = logging.getLogger(__name__)


async def store_only(services: Services, msg: InboundMessage, *, reason: str) -> Outcome:
    """Keep the message (nothing a resident sends is dropped) without answering it."""
    log.warning("not answering %s %s: %s", msg.channel, msg.external_id, reason)
    async with unit_of_work(services) as work:
        sender = identify(work.session, msg, work.now)
        inbound = store_inbound(work, sender, msg, None)
        inbound.error = reason[:500]
        return Outcome(resident_id=sender.resident.id if sender.resident else None, message_id=inbound.id)


def latest_options(services: Services, identity_id: int) -> list[str]:
    """The choices offered in our last message to this person (the database remembers if Redis forgot)."""
    with services.db.session() as session:
        last = session.exec(
            select(Message)
            .where(Message.identity_id == identity_id, Message.direction == "out")
            .order_by(col(Message.id).desc())
            .limit(1)
        ).first()
    return [o["data"] for o in last.options] if last is not None and last.options else []


def already_handled(services: Services, msg: InboundMessage) -> bool:
    with services.db.session() as session:
        return (
            session.exec(
                select(Message.id)
                .where(
                    Message.channel == msg.channel,
                    Message.direction == "in",
                    Message.provider_message_id == msg.provider_message_id,
                )
                .limit(1)
            ).first()
            is not None
        )


def store_inbound(work: Work, sender: Sender, msg: InboundMessage, nlu: NluResult | None) -> Message:
    text = msg.text
    if text is None and msg.choice:
        text = f"[{msg.choice}]"
    if text is None and msg.location:
        text = f"[location {msg.location[0]:.5f},{msg.location[1]:.5f}]"
    message = Message(
        conversation_id=sender.conversation.id,
        direction="in",
        channel=msg.channel,
        sender_kind="resident",
        resident_id=sender.resident.id if sender.resident else None,
        identity_id=sender.identity.id,
        provider_message_id=msg.provider_message_id,
        text=text,
        media=list(msg.media),
        nlu=nlu.to_rasa() if nlu else None,
        intent=nlu.intent if nlu else None,
        confidence=nlu.confidence if nlu else None,
        lang=sender.lang,
        created_at=work.now,
        status="received",
    )
    work.session.add(message)
    work.session.flush()
    return message
