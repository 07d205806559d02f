"""Channel-neutral messages: what bots hand to the core and what the core hands back to bots.

Bots translate provider payloads into :class:`InboundMessage`; the core answers with
:class:`Reply` objects (message keys and facts, already stored as outbound messages) and, for staff, pages. Nothing here
knows Telegram or Twilio.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from gridline.i18n import DEFAULT_LANGUAGE
from gridline.i18n.phrases import Phrase, Variant, as_written, from_json, render, to_json

Channel = Literal["telegram", "sms", "voice", "web", "api"]


@dataclass(frozen=True)
class Option:
    """A choice offered to the person (a Telegram button, a numbered SMS choice, a spoken menu item,
    a web button). ``label`` is a phrase each channel renders in the person's language (``text``).

    ``data`` comes back as :attr:`InboundMessage.choice` when picked; it is short (≤ 40 bytes) so
    every channel can carry it.
    """

    label: Phrase
    data: str

    def text(self, lang: str | None, variant: Variant | None = None) -> str:
        """The label in ``lang``, through a channel's ``variant`` of its keys if it has one."""
        return render(self.label, lang, variant) if variant is not None else render(self.label, lang)


def options_to_json(options: tuple[Option, ...] | list[Option], lang: str | None) -> list[dict[str, Any]]:
    """Options as the outbound message row keeps them: the label as typed channels show it in
    ``lang`` (the console and the sandbox print it), the data, and the label's phrase."""
    return [{"label": o.text(lang), "data": o.data, "phrase": to_json(o.label)} for o in options]


def options_from_json(stored: list[dict[str, Any]] | None) -> tuple[Option, ...]:
    """The options :func:`options_to_json` wrote (a row from before phrases: its label as written)."""
    return tuple(
        Option(from_json(o["phrase"]) if o.get("phrase") else as_written(str(o.get("label", ""))),
               str(o.get("data", "")))
        for o in stored or ()
    )  # fmt: skip


@dataclass(frozen=True)
class InboundMessage:
    """One thing a resident or a staff member did on a channel."""

    channel: Channel
    external_id: str  # Telegram user id, E.164 phone number, web session id
    text: str | None = None
    bot_name: str = ""
    provider_message_id: str | None = None
    chat_id: str | None = None
    # A shared location: (latitude, longitude).
    location: tuple[float, float] | None = None
    # A phone number the provider vouches for (Telegram contact of the sender themselves, caller id).
    verified_phone: str | None = None
    # The data of an Option the person picked.
    choice: str | None = None
    # Bot commands without the slash: "start", "lang", "status", "duty", "cases", "help".
    command: str | None = None
    command_args: str = ""
    media: list[dict[str, Any]] = field(default_factory=list)
    display_name: str | None = None
    lang: str | None = None
    received_at: datetime | None = None
    # The case a staff member's reply is about (Telegram reply-to a page), if the channel knows it.
    reply_to_case_ref: str | None = None


@dataclass(frozen=True)
class Reply:
    """Something the core wants said back to the person on the same channel: a catalogue key and
    its facts, not text — each channel renders it (``render``, with the channel's variants)."""

    key: str
    params: Mapping[str, Any] = field(default_factory=dict)
    options: tuple[Option, ...] = ()
    lang: str = DEFAULT_LANGUAGE
    message_id: int | None = None  # the stored outbound Message row

    @property
    def phrase(self) -> Phrase:
        return Phrase(self.key, self.params)

    @property
    def text(self) -> str:
        """The reply as typed channels show it (what the outbound message row stores)."""
        return render(self.phrase, self.lang)

    def render(self, variant: Variant | None = None) -> str:
        """The reply in its language, through a channel's ``variant`` of its keys if it has one."""
        return render(self.phrase, self.lang, variant) if variant is not None else self.text


@dataclass
class Outcome:
    """The result of handling one inbound message."""

    replies: list[Reply] = field(default_factory=list)
    case_ref: str | None = None
    case_id: int | None = None
    resident_id: int | None = None
    staff_id: int | None = None
    created_case: bool = False
    joined_case: bool = False
    message_id: int | None = None
