"""Notifiers: how pages and outbound messages leave Gridline, one per channel.

The core never calls a provider itself: it writes ``Page`` rows and outbound ``Message`` rows (the
outbox), and delivery jobs hand them to the notifier registered for their channel. Telegram and Twilio
register theirs; the core brings the web sandbox notifier and a log notifier.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

from gridline.i18n.phrases import Phrase, Variant, params_from_json, render
from gridline.kernel.messages import Option

DeliveryState = Literal["sent", "delivered", "retry", "failed"]


@dataclass(frozen=True)
class Said(Phrase):
    """A catalogue phrase — a line of a page, the answer to a staff action — that the person's
    channel renders (``bots.page_text.said_text``), in ``lang`` when it says whose."""

    lang: str | None = None


def said(key: str, lang: str | None = None, **params: Any) -> Said:
    """``Said(key, params, lang)`` written the way ``t(key, lang, **params)`` is."""
    return Said(key, params, lang)


@dataclass(frozen=True)
class PageNotice:
    """Everything a notifier needs to page one person about one case: the case's facts, not text.

    Each channel renders it (``bots.page_text``: the full page for Telegram, the web inbox and the
    phone call; the one-segment SMS with the reply code) in the staff member's language ``lang``.
    """

    page_id: int
    case_id: int
    case_ref: str
    channel: str
    target: str  # chat id / E.164 / "" for web
    bot_name: str
    staff_id: int
    staff_name: str
    lang: str
    code: int | None  # SMS reply code
    category: str
    priority: str
    grid_name: str  # "—" for a case without a grid
    address: str | None
    summary: str
    report_count: int
    # Why this person is paged (the policy target, ``transfer``, ``extension_requested``, ...):
    # channels pick the page's buttons and its first lines by it.
    reason: str = ""
    reopened_words: str | None = None  # a reopened case: what the resident said
    chase_due: str | None = None  # a chasing page (催办, 督办): the deadline it is about, local time
    # A department-loop or extension page: its headline and its own SMS (``routing.loop_pages``).
    loop_headline: Said | None = None
    loop_short: Said | None = None
    due_at: datetime | None = None  # the case's 限时 deadline (UTC)
    # The policy's repeat this page belongs to: 0 the first time through its steps, 1 when nobody
    # acknowledged and the policy starts over (the page then says it is a repeat, 第2次呼叫).
    repeat: int = 0


class CannotRender(Exception):
    """A channel cannot word a page from its facts (a key or a fact the catalogue does not have).

    Sending it again would fail the same way: the outbox engine records the page failed on this
    channel (``render: …``) and its policy tries the person's next one."""


@dataclass(frozen=True)
class MessageNotice:
    """An outbound message (to a resident or a staff member) waiting in the outbox."""

    message_id: int
    channel: str
    target: str
    bot_name: str
    text: str
    lang: str
    options: tuple[Option, ...] = ()
    case_ref: str | None = None
    media: tuple[dict[str, Any], ...] = ()
    kind: str = "reply"  # the message's ``storage.pacing.MessageKind``
    # The catalogue key and facts ``text`` was rendered from (``gridline.i18n.phrases``), when the
    # message has them: a channel with its own variant of the key renders that (``phrase``).
    key: str | None = None
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def phrase(self) -> Phrase | None:
        return Phrase(self.key, params_from_json(self.params)) if self.key else None

    def render(self, variant: Variant) -> str:
        """The message through a channel's ``variant`` of its keys; ``text`` when it has no key."""
        phrase = self.phrase
        return render(phrase, self.lang, variant) if phrase is not None else self.text


@dataclass(frozen=True)
class PageUpdate:
    """A change to show on a page already delivered (e.g. Telegram: remove buttons, show who acked):
    the page as it reads now (``page``) and a note of what happened since (``note``)."""

    page_id: int
    channel: str
    target: str
    bot_name: str
    page: PageNotice
    note: Said
    provider_ref: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Delivery:
    """What a notifier reports back.

    ``state``: ``sent`` / ``delivered`` — accepted; ``retry`` — temporary failure, try again after
    ``retry_after`` seconds; ``failed`` — permanent on this channel (``unreachable`` marks the contact
    method so the next channel is used from now on).
    """

    state: DeliveryState
    provider_message_id: str | None = None
    provider_ref: dict[str, Any] = field(default_factory=dict)
    retry_after: float | None = None
    error: str | None = None
    unreachable: bool = False


class Notifier(Protocol):
    channel: str

    async def send_page(self, notice: PageNotice) -> Delivery: ...

    async def send_message(self, notice: MessageNotice) -> Delivery: ...

    async def update_page(self, update: PageUpdate) -> Delivery | None:
        """Edit a delivered page; return ``Delivery("retry", retry_after=...)`` to be called again later."""
        ...


class NotifierRegistry:
    """Notifiers by channel. A channel with no notifier falls back to the log notifier."""

    def __init__(self) -> None:
        self._by_channel: dict[str, Notifier] = {}

    def register(self, notifier: Notifier) -> None:
        self._by_channel[notifier.channel] = notifier

    def get(self, channel: str) -> Notifier | None:
        return self._by_channel.get(channel)

    def channels(self) -> list[str]:
        return sorted(self._by_channel)
