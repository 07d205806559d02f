"""The conversation log: every inbound message stored (even those not answered)."""

from __future__ import annotations

from gridline.kernel.messages import InboundMessage
from gridline.kernel.work import Work, finish_inbound_with
from gridline.nlu.types import NluResult
from gridline.storage.models import Message
from gridline.storage.people import Sender
from gridline.storage.rows import insert_row


def store_inbound(work: Work, sender: Sender, msg: InboundMessage, nlu: NluResult | None) -> Message:
    """Add ``msg`` to the sender's conversation as received (with what the NLU made of it, if asked)."""
    text = msg.text
    if text is None and msg.choice:
        text = f"[{msg.choice}]"
    if text is None and msg.location:
        text = f"[location {msg.location[0]:.5f},{msg.location[1]:.5f}]"
    # One Core INSERT, the row as the session's object (``storage.rows``): no model constructor, no flush.
    message = insert_row(work.session, Message, dict(
        conversation_id=sender.conversation.id,
        direction="in",
        channel=msg.channel,
        sender_kind="staff" if sender.staff is not None else "resident",
        resident_id=sender.resident.id if sender.resident else None,
        staff_id=sender.staff.id if sender.staff is not None else None,
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
    ))
    if msg.provider_message_id:
        finish_inbound_with(work)  # the event of a message stored for good is finished with it
    return message
