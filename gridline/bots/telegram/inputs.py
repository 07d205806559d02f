"""What a person did on Telegram, independent of the library that parsed the update.

Both runtimes (python-telegram-bot and aiogram) route updates with their own declarative handlers and
translate the library's typed objects into these small records; :mod:`.flows` decides what happens.
"""

from __future__ import annotations

from dataclasses import dataclass

# Bot commands Gridline understands; anything else starting with "/" is treated as text.
# The department loop and extensions (docs/departments.md): /transfer REF note, /reply REF result, …
LOOP_COMMANDS = ("transfer", "accept", "reply", "return", "approve", "reject", "extend", "grant", "refuse")
COMMANDS = ("start", "lang", "status", "help", "duty", "cover", "cases", "visits", *LOOP_COMMANDS)

# Message kinds Gridline cannot read; the sender gets a polite answer instead of an error.
UNSUPPORTED_KINDS = ("sticker", "voice", "video_note", "video", "audio", "document", "animation", "poll", "dice")


@dataclass(frozen=True)
class Sender:
    """Who did it and in which chat."""

    user_id: int
    chat_id: int
    name: str | None = None
    username: str | None = None
    language_code: str | None = None


@dataclass(frozen=True)
class CommandInput:
    sender: Sender
    message_id: int
    command: str  # without the slash, lower case
    args: str = ""


@dataclass(frozen=True)
class TextInput:
    sender: Sender
    message_id: int
    text: str
    reply_to_message_id: int | None = None


@dataclass(frozen=True)
class LocationInput:
    sender: Sender
    message_id: int
    latitude: float
    longitude: float


@dataclass(frozen=True)
class ContactInput:
    sender: Sender
    message_id: int
    phone_number: str
    contact_user_id: int | None  # None when the contact is not a Telegram user
    name: str | None = None


@dataclass(frozen=True)
class PhotoInput:
    sender: Sender
    message_id: int
    file_id: str  # the largest size
    file_unique_id: str
    caption: str | None = None
    width: int | None = None
    height: int | None = None
    reply_to_message_id: int | None = None
    # Photos sent together (an album) share this; only one of them carries the caption.
    media_group_id: str | None = None


@dataclass(frozen=True)
class CallbackInput:
    sender: Sender  # chat_id is the chat of the message the button is on
    callback_id: str
    data: str | None
    message_id: int | None


@dataclass(frozen=True)
class UnsupportedInput:
    sender: Sender
    message_id: int
    kind: str


TelegramInput = (
    CommandInput | TextInput | LocationInput | ContactInput | PhotoInput | CallbackInput | UnsupportedInput
)


def unsupported_kind(present: dict[str, object]) -> str:
    """The first unsupported content kind present in a message (``other`` if none is recognised)."""
    for kind in UNSUPPORTED_KINDS:
        if present.get(kind):
            return kind
    return "other"
