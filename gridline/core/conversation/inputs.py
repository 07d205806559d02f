"""What kind of input a message is, for the conversation table (``table.py``).

One kind per message, in this order: a bot command, a choice (a button's data, or a bare number
that picks an option offered — see ``turns.py``), a verified phone number, a shared location, a
photo or voicemail without words, nothing at all, a question about a case by its reference
("查询 W4RGMD"), and words (everything else: what the NLU is for).
"""

from __future__ import annotations

from enum import StrEnum

from gridline.core import case_lookup
from gridline.core.conversation.keywords import resident_command
from gridline.kernel.messages import InboundMessage


class Input(StrEnum):
    COMMAND = "command"
    CHOICE = "choice"
    PHONE = "phone"
    LOCATION = "location"
    MEDIA = "media"
    EMPTY = "empty"
    CASE_QUERY = "case_query"
    WORDS = "words"


def input_of(msg: InboundMessage, choice: str | None) -> Input:
    """The kind of ``msg``, given the option it picked (``choice``) if any."""
    if msg.command or resident_command(msg.text):  # 「状态」 typed on any channel is /status
        return Input.COMMAND
    if choice:
        return Input.CHOICE
    if msg.verified_phone:
        return Input.PHONE
    if msg.location is not None:
        return Input.LOCATION
    text = (msg.text or "").strip()
    if not text:
        return Input.MEDIA if msg.media else Input.EMPTY
    if case_lookup.parse_query(text) is not None:
        return Input.CASE_QUERY
    return Input.WORDS
