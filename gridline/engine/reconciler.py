"""The reconciler: the safety net that queues what the database — the truth — says is due.

Every row's own transaction queued its job. What is left for this are rows whose worker vanished
(their claim's lease ran out), retries that wait for a time rather than a job (an inbound event's
backoff), and on SQLite the jobs of a process that stopped. Each pass also runs the engine's
declared time-driven modules when they are due (``gridline.engine.modules``).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from gridline.engine.maintenance import daily_maintenance
from gridline.engine.modules import run_due_modules
from gridline.kernel.send_claims import INTERRUPTED, send_lease_seconds
from gridline.kernel.work import Work, in_transaction
from gridline.storage import inbox, outbox, pages, steps

if TYPE_CHECKING:
    from gridline.kernel.services import Services

log = logging.getLogger(__name__)


async def reconcile(services: Services, limit: int = 2000, grace_seconds: float = 0.0) -> int:
    """Queue everything the database says is due; returns how many jobs were (re)queued.

    A safety net: every row's own transaction queued its job. What is left for this are rows whose
    worker vanished (their claim's lease ran out), retries that wait for a time rather than a job
    (an inbound event's backoff), and on SQLite the jobs of a process that stopped. ``grace_seconds``
    skips rows due more recently than that (the periodic pass in workers, where such rows still have
    the job their transaction queued).
    """
    try:
        await daily_maintenance(services)
    except Exception:  # maintenance must never stop pages from being reconciled
        log.exception("daily maintenance failed")
    settings = services.settings
    await run_due_modules(services)
    return await in_transaction(
        services, _requeue_due, limit, grace_seconds, settings.jobs.lease_seconds, send_lease_seconds(settings)
    )


def _requeue_due(work: Work, limit: int, grace_seconds: float, lease_seconds: float, send_lease: float) -> int:
    session, now = work.session, work.now
    horizon = now - timedelta(seconds=grace_seconds)
    lease = timedelta(seconds=lease_seconds)
    # Work whose worker vanished (SIGKILL) goes back to its queue after the lease. A send whose claim
    # lapsed was cut off mid-call: marked, so the next attempt asks the provider first (kernel.send_claims).
    send_expired = now - timedelta(seconds=send_lease)
    pages.release_lapsed_sends(session, claimed_before=send_expired, error=INTERRUPTED)
    outbox.release_lapsed_sends(session, claimed_before=send_expired, error=INTERRUPTED)
    steps.release_lapsed(session, claimed_before=now - lease)
    inbox.release_lapsed(session, claimed_before=now - lease)
    due_steps = steps.due_ids(session, horizon=horizon, limit=limit)
    due_pages = pages.due_for_sending(session, horizon=horizon, limit=limit)
    due_messages = outbox.due_for_sending(session, horizon=horizon, limit=limit)
    due_events = inbox.due_ids(session, horizon=horizon, limit=limit)
    for step_id in due_steps:
        work.job("run_escalation_step", f"step:{step_id}", None, step_id=step_id)
    for page_id, attempts in due_pages:
        work.job("deliver_page", f"page:{page_id}:{attempts}", None, page_id=page_id)
    for message_id, attempts in due_messages:
        work.job("deliver_message", f"msg:{message_id}:{attempts}", None, message_id=message_id)
    for event_id in due_events:
        work.job("process_inbound", f"inbound:{event_id}", None, event_id=event_id)
    return len(work.jobs)
