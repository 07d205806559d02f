"""Provider status callbacks (Twilio's MessageStatus / CallStatus) for pages and outbox messages.

The one place they land, whatever sent them (the ``/status`` webhook, a call answered by a machine):
the outbox engine finds the row the provider's id names among its kinds and applies the news with
that kind's policy. Callbacks arrive out of order; each row keeps the provider's sequence, so older
news never overwrites newer. A failed or undelivered page moves to the person's next channel.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gridline.kernel.outbox_engine import STATUS_ORDER, apply_provider_status
from gridline.kernel.work import in_transaction
from gridline.routing.delivery import PAGES
from gridline.routing.message_delivery import MESSAGES

if TYPE_CHECKING:
    from gridline.kernel.services import Services

KINDS = (PAGES, MESSAGES)


async def record_provider_status(
    services: Services, provider_message_id: str, status: str, seq: int, error: str | None = None
) -> str:
    """A provider's status callback for a page or a message. Older news never overwrites newer."""
    status = status.lower()
    rank = STATUS_ORDER.get(status)
    if rank is None:
        return "unknown status"
    return await in_transaction(services, apply_provider_status, KINDS, provider_message_id, status, rank, seq, error)
