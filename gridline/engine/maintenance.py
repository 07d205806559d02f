"""Once-a-day work across all workers: retention (``gridline.engine.retention``)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from gridline.engine.retention import purge_old_text, purge_removed_households

if TYPE_CHECKING:
    from gridline.kernel.services import Services

log = logging.getLogger(__name__)


async def daily_maintenance(services: Services) -> None:
    """Purge message text past the retention period, and the households removed from the roster
    longer ago than theirs. Claimed once per day across every process (``state.claim_once``)."""
    day = services.clock.now().date().isoformat()
    if not await services.state.claim_once(f"maintenance:{day}", 86400):
        return
    if services.settings.console.retention_days > 0:
        purged = await purge_old_text(services)
        log.info("retention: purged the text of %d messages", purged)
    households = await purge_removed_households(services)
    if households:
        log.info("retention: deleted %d households removed from the roster", households)
