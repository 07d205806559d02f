"""The log notifier: stands in for a channel with no provider configured.

It writes the page to the log and reports a failure ("channel not configured"), so the person's
next channel is tried — a page is never swallowed by a channel that cannot carry it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from gridline.kernel.notify import Delivery, MessageNotice, PageNotice, PageUpdate

log = logging.getLogger("gridline.notify.log")


@dataclass
class LogNotifier:
    channel: str

    async def send_page(self, notice: PageNotice) -> Delivery:
        log.warning("page %s on unconfigured channel %s", notice.page_id, self.channel)
        log.debug("page %s to %s about case %s", notice.page_id, notice.staff_name, notice.case_ref)
        return Delivery("failed", error=f"channel {self.channel} is not configured")

    async def send_message(self, notice: MessageNotice) -> Delivery:
        log.warning("message %s on unconfigured channel %s", notice.message_id, self.channel)
        log.debug("message %s: %s", notice.message_id, notice.text[:200])
        return Delivery("failed", error=f"channel {self.channel} is not configured")

    async def update_page(self, update: PageUpdate) -> None:
        log.info("page %s update on unconfigured channel %s", update.page_id, self.channel)


def register_missing(registry: object, channels: tuple[str, ...] = ("telegram", "sms", "voice", "web")) -> list[str]:
    """Register a log notifier for every channel nobody else registered; returns those channels."""
    from gridline.kernel.notify import NotifierRegistry

    assert isinstance(registry, NotifierRegistry)
    missing = [c for c in channels if registry.get(c) is None]
    for channel in missing:
        registry.register(LogNotifier(channel))
    return missing
