"""Test doubles for the core's notifier boundary (provider fakes live with each channel's tests)."""

from __future__ import annotations

from dataclasses import dataclass, field

from gridline.bots.page_text import page_texts
from gridline.kernel.notify import Delivery, MessageNotice, PageNotice, PageUpdate
from gridline.kernel.services import Services


@dataclass
class RecordingNotifier:
    """A notifier that records what it is asked to send and answers with a scripted outcome."""

    channel: str
    pages: list[PageNotice] = field(default_factory=list)
    messages: list[MessageNotice] = field(default_factory=list)
    updates: list[PageUpdate] = field(default_factory=list)
    script: list[Delivery] = field(default_factory=list)
    update_script: list[Delivery | None] = field(default_factory=list)

    async def send_page(self, notice: PageNotice) -> Delivery:
        page_texts(notice)  # worded as a channel words it (a page it cannot word fails over)
        self.pages.append(notice)
        return (
            self.script.pop(0)
            if self.script
            else Delivery("sent", provider_message_id=f"{self.channel}-p{notice.page_id}")
        )

    async def send_message(self, notice: MessageNotice) -> Delivery:
        self.messages.append(notice)
        return Delivery("sent", provider_message_id=f"{self.channel}-m{notice.message_id}")

    async def update_page(self, update: PageUpdate) -> Delivery | None:
        self.updates.append(update)
        return self.update_script.pop(0) if self.update_script else None


def record_all_channels(services: Services) -> dict[str, RecordingNotifier]:
    notifiers = {c: RecordingNotifier(c) for c in ("telegram", "sms", "voice", "web")}
    for notifier in notifiers.values():
        services.notifiers.register(notifier)
    return notifiers
