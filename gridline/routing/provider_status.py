"""Provider status callbacks (Twilio's MessageStatus / CallStatus) for pages and outbox messages.

Callbacks arrive out of order; each row keeps the provider's sequence, so older news never
overwrites newer. A failed or undelivered page moves to the person's next channel.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gridline.domain.lifecycle import MESSAGE, PAGE, MessageStatus, PageStatus
from gridline.kernel.work import Work, in_transaction
from gridline.routing.delivery import fall_back
from gridline.storage import outbox, pages

if TYPE_CHECKING:
    from gridline.kernel.services import Services

# Provider statuses in the order they happen; a callback never moves a page or message backwards.
STATUS_ORDER = {
    "queued": 0,
    "accepted": 0,
    "sending": 1,
    "sent": 2,
    "ringing": 2,
    "in-progress": 3,
    "delivered": 4,
    "answered": 4,
    "completed": 5,
    "read": 5,
    "undelivered": 6,
    "failed": 6,
    "busy": 6,
    "no-answer": 6,
    "canceled": 6,
}
FAILED_STATUSES = {"undelivered", "failed", "busy", "no-answer", "canceled"}


async def record_provider_status(
    services: Services, provider_message_id: str, status: str, seq: int, error: str | None = None
) -> str:
    """A provider's status callback for a page or a message. Older news never overwrites newer."""
    status = status.lower()
    rank = STATUS_ORDER.get(status)
    if rank is None:
        return "unknown status"
    return await in_transaction(services, record_status, provider_message_id, status, rank, seq, error)


def record_status(work: Work, provider_message_id: str, status: str, rank: int, seq: int, error: str | None) -> str:
    """Apply one callback to the page or message the provider's id names."""
    page = pages.by_provider_message_id(work.session, provider_message_id)
    if page is not None:
        if seq <= page.provider_seq:
            return "stale"
        page.provider_seq = seq
        page.provider_status = status
        if status in FAILED_STATUSES:
            if page.status in (PageStatus.SENT, PageStatus.DELIVERED, PageStatus.SENDING):
                PAGE.move(page, PageStatus.FAILED, work.now)
                page.error = (error or status)[:500]
                fall_back(work, page, unreachable=False, reason=error or status)
            return "failed"
        if status in ("delivered", "answered", "read") and page.status == PageStatus.SENT:
            PAGE.move(page, PageStatus.DELIVERED, work.now)
        return page.status
    message = outbox.by_provider_message_id(work.session, provider_message_id)
    if message is None:
        return "unknown message"
    if seq <= message.status_seq:
        return "stale"
    message.status_seq = seq
    wanted = MessageStatus.FAILED if status in FAILED_STATUSES else (
        MessageStatus.DELIVERED if rank >= 4 else MessageStatus.SENT
    )
    if not MESSAGE.allows(message.status, wanted):
        return f"ignored: {message.status} → {wanted}"  # e.g. a callback about a cancelled message
    MESSAGE.move(message, wanted, work.now)
    if error:
        message.error = error[:500]
    return message.status
