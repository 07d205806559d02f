"""The ``web`` channel's notifier: the staff inbox (and, in a demo, the sandbox's leader pane).

The rows the core wrote are what both show — the ``Page`` row is the staff member's inbox entry, the
outbound ``Message`` row is the resident's chat bubble in the sandbox — so handing a page over marks
it delivered. What leaves the process is a web push to each browser the staff member installed the
inbox on, so the phone rings; a push that fails does not undo the delivery (the page is in the inbox).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from gridline.bots.web.push import PushTarget, WebPush
from gridline.i18n import t
from gridline.kernel.notify import Delivery, MessageNotice, PageNotice, PageUpdate
from gridline.kernel.work import Work, in_transaction
from gridline.storage import staff_inbox as store

if TYPE_CHECKING:
    from gridline.kernel.services import Services

log = logging.getLogger(__name__)

CHANNEL = "web"
INBOX_URL = "/console/inbox"


class WebNotifier:
    """Marks web pages and messages delivered and pushes new pages to the staff member's browsers."""

    channel = CHANNEL

    def __init__(self, services: Services | None = None) -> None:
        self.services = services
        self.push = WebPush(services.settings.inbox) if services is not None else None

    async def send_page(self, notice: PageNotice) -> Delivery:
        if self.services is not None and self.push is not None and self.push.enabled:
            await self.push_page(notice)
        return Delivery("delivered", provider_message_id=f"web-page-{notice.page_id}")

    async def push_page(self, notice: PageNotice) -> int:
        """Push the page to every subscribed browser of its staff member; returns how many took it."""
        assert self.services is not None and self.push is not None
        services = self.services

        def targets(work: Work) -> list[PushTarget]:
            return [PushTarget(s.id or 0, s.endpoint, s.p256dh, s.auth)
                    for s in store.subscriptions_of(work.session, notice.staff_id)]

        category = t(f"category.{notice.category}", notice.lang)
        payload = {
            "title": t("console.inbox.push.title", notice.lang, ref=notice.case_ref, category=category),
            "body": t("console.inbox.push.body", notice.lang, grid=notice.grid_name,
                      priority=t(f"priority.{notice.priority}", notice.lang)),
            "url": f"{INBOX_URL}#case-{notice.case_id}",
            "tag": f"case-{notice.case_id}",
        }
        delivered = 0
        for target in await in_transaction(services, targets):
            # The network call happens here, outside any transaction; the outcome is stored after.
            outcome = await self.push.send(target, payload)
            if not outcome.ok:
                log.warning("web push to subscription %s failed: %s", target.subscription_id, outcome.error)
            delivered += outcome.ok

            await in_transaction(services, _remember, target.subscription_id, outcome.ok, outcome.gone)
        return delivered

    async def send_message(self, notice: MessageNotice) -> Delivery:
        return Delivery("delivered", provider_message_id=f"web-msg-{notice.message_id}")

    async def update_page(self, update: PageUpdate) -> None:
        # The inbox and the sandbox re-read the page and case status whenever they are shown.
        return None


def _remember(work: Work, subscription_id: int, ok: bool, gone: bool) -> None:
    store.record_push(work.session, subscription_id, ok=ok, gone=gone, now=work.now)
