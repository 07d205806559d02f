"""The web sandbox's notifier: nothing leaves the process.

The rows the core wrote are what the sandbox shows — the ``Page`` row is the leader's inbox entry,
the outbound ``Message`` row is the resident's chat bubble — so handing them over is all it takes
for them to count as delivered.
"""

from __future__ import annotations

from gridline.core.notify import Delivery, MessageNotice, PageNotice, PageUpdate

CHANNEL = "web"


class WebNotifier:
    """Marks web pages and messages delivered; the sandbox page polls the database for them."""

    channel = CHANNEL

    async def send_page(self, notice: PageNotice) -> Delivery:
        return Delivery("delivered", provider_message_id=f"web-page-{notice.page_id}")

    async def send_message(self, notice: MessageNotice) -> Delivery:
        return Delivery("delivered", provider_message_id=f"web-msg-{notice.message_id}")

    async def update_page(self, update: PageUpdate) -> None:
        # The inbox re-reads the page and case status on every poll: nothing to edit.
        return None
