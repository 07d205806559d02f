"""The bare facts of a stored Telegram update, read without the libraries (for ``core.rescue``)."""

from __future__ import annotations

from typing import Any

from gridline.kernel.messages import InboundMessage
from gridline.storage.models import InboundEvent

_MESSAGE_KINDS = ("message", "edited_message")


def read_update(event: InboundEvent) -> InboundMessage | None:
    """Who wrote what, from the raw update; None for updates that carry no resident's message."""
    payload: dict[str, Any] = event.payload if isinstance(event.payload, dict) else {}
    message = next((payload[k] for k in _MESSAGE_KINDS if isinstance(payload.get(k), dict)), None)
    if message is None:
        return None
    chat = message.get("chat") if isinstance(message.get("chat"), dict) else {}
    user = message.get("from") if isinstance(message.get("from"), dict) else chat
    user_id, chat_id = user.get("id"), chat.get("id", user.get("id"))
    if not isinstance(user_id, int) or isinstance(user_id, bool):
        return None
    text = message.get("text") or message.get("caption")
    message_id = message.get("message_id")
    _, _, bot_name = event.provider.partition(":")
    return InboundMessage(
        channel="telegram",
        external_id=str(user_id),
        text=text if isinstance(text, str) else None,
        bot_name=bot_name,
        chat_id=str(chat_id),
        provider_message_id=f"{chat_id}:{message_id}" if isinstance(message_id, int) else None,
        received_at=event.received_at,
    )
