"""The engine that owns time-driven work: the job functions and the reconciler.

Job functions take plain ids (a job is a row in PostgreSQL's job table or an entry of the in-process
scheduler); each claims its database row, so running a job twice is harmless. ``reconcile`` finds
work that is due in the database — the truth — and has no job, and queues it again.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import or_, update
from sqlmodel import col, select

from gridline.core.inbox import process_inbound
from gridline.core.work import Work, in_transaction
from gridline.routing.chasing import sweep as chase_sweep
from gridline.routing.claims import INTERRUPTED, send_lease_seconds
from gridline.routing.closure import sweep as closure_sweep
from gridline.routing.delivery import deliver_page, update_page
from gridline.routing.directory import Directory
from gridline.routing.escalation import run_escalation_step
from gridline.routing.lifecycle import PageStatus
from gridline.routing.message_delivery import deliver_message
from gridline.routing.transfers import requeue_due as transfers_requeue
from gridline.routing.transfers import run_transfer_timer
from gridline.routing.visits import run_visit_timer
from gridline.routing.visits import sweep as visits_sweep
from gridline.storage.models import EscalationStep, InboundEvent, Message, Page

if TYPE_CHECKING:
    from gridline.core.services import Services

log = logging.getLogger(__name__)


async def _run_step(services: Services, step_id: int) -> Any:
    return await run_escalation_step(services, step_id)


async def _update_page(
    services: Services, page_id: int, note_key: str, params: dict[str, str], attempt: int = 0
) -> Any:
    return await update_page(services, page_id, note_key, params, attempt)


JOBS: dict[str, Any] = {
    "process_inbound": process_inbound,
    "run_escalation_step": _run_step,
    "deliver_page": deliver_page,
    "deliver_message": deliver_message,
    "update_page": _update_page,
    "run_transfer_timer": run_transfer_timer,
    "run_visit_timer": run_visit_timer,
}


async def run_job(services: Services, name: str, kwargs: dict[str, Any]) -> Any:
    """Run one job by name, logging (never raising) failures: the reconciler retries what is due."""
    try:
        return await JOBS[name](services, **kwargs)
    except Exception:
        log.exception("job %s %s failed", name, kwargs)
        return None


async def daily_maintenance(services: Services) -> None:
    """Once a day across all workers: purge message text past the retention period, and the
    households removed from the roster longer ago than theirs."""
    day = services.clock.now().date().isoformat()
    if not await services.state.claim_once(f"maintenance:{day}", 86400):
        return
    from gridline.console.retention import purge_old_text, purge_removed_households

    if services.settings.console.retention_days > 0:
        purged = await purge_old_text(services)
        log.info("retention: purged the text of %d messages", purged)
    households = await purge_removed_households(services)
    if households:
        log.info("retention: deleted %d households removed from the roster", households)


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
    await sweep_hourly_work(services)
    return await in_transaction(
        services, _requeue_due, limit, grace_seconds, settings.jobs.lease_seconds, send_lease_seconds(settings)
    )


SWEEP_EVERY = timedelta(seconds=60)


async def sweep_hourly_work(services: Services) -> None:
    """Reminders and follow-ups measured in hours: residents who never answered "解决了吗？"
    (routing.closure) and 催办/督办 (routing.chasing). At most once a minute per process — their
    steps are case events, so a sweep that runs twice or late does each step once."""
    now = services.clock.now()
    if services.swept_at is not None and abs(now - services.swept_at) < SWEEP_EVERY:
        return
    services.swept_at = now
    try:
        await in_transaction(services, _sweep, services)
    except Exception:  # a sweep must never stop pages from being reconciled
        log.exception("closure and deadline sweep failed")


def _sweep(work: Work, services: Services) -> int:
    # The grid index is read here, in the database thread, the first time it is needed.
    settings = services.settings
    reminded = closure_sweep(work, settings.closure.confirm_wait_hours)
    chased = chase_sweep(work, Directory.for_services(services).grids, settings)
    # 走千家: visit timers whose job was lost, new households' visits planned, the day's digests.
    # The department loop: transfer accept timers whose job was lost (hours-scale, so once a minute).
    requeued = transfers_requeue(work, settings.jobs.lease_seconds)
    return reminded + chased + requeued + visits_sweep(work, settings)


def _requeue_due(work: Work, limit: int, grace_seconds: float, lease_seconds: float, send_lease: float) -> int:
    session, now = work.session, work.now
    horizon = now - timedelta(seconds=grace_seconds)
    lease = timedelta(seconds=lease_seconds)
    # Work whose worker vanished (SIGKILL) goes back to its queue after the lease. A send whose claim
    # lapsed was cut off mid-call: marked, so the next attempt asks the provider first (routing.claims).
    send_expired = now - timedelta(seconds=send_lease)
    session.execute(
        update(Page)
        .where(col(Page.status) == PageStatus.SENDING.value, col(Page.claimed_at) < send_expired)
        .values(status=PageStatus.SCHEDULED.value, error=INTERRUPTED)
    )
    session.execute(
        update(Message)
        .where(col(Message.status) == "sending", col(Message.claimed_at) < send_expired)
        .values(status="queued", error=INTERRUPTED)
    )
    session.execute(
        update(EscalationStep)
        .where(col(EscalationStep.status) == "running", col(EscalationStep.claimed_at) < now - lease)
        .values(status="pending")
    )
    session.execute(
        update(InboundEvent)
        .where(col(InboundEvent.status) == "processing", col(InboundEvent.processed_at) < now - lease)
        .values(status="received")
    )
    steps = session.exec(
        select(EscalationStep.id)
        .where(EscalationStep.status == "pending", col(EscalationStep.due_at) <= horizon)
        .order_by(col(EscalationStep.due_at))
        .limit(limit)
    ).all()
    pages = session.exec(
        select(Page.id, Page.attempts)
        .where(
            Page.status == PageStatus.SCHEDULED.value,
            or_(col(Page.next_attempt_at).is_(None), col(Page.next_attempt_at) <= horizon),
            col(Page.created_at) <= horizon,
        )
        .limit(limit)
    ).all()
    messages = session.exec(
        select(Message.id, Message.attempts)
        .where(
            Message.status == "queued",
            or_(col(Message.next_attempt_at).is_(None), col(Message.next_attempt_at) <= horizon),
            col(Message.created_at) <= horizon,
        )
        .limit(limit)
    ).all()
    events = session.exec(
        select(InboundEvent.id)
        .where(
            InboundEvent.status == "received",
            or_(col(InboundEvent.processed_at).is_(None), col(InboundEvent.processed_at) <= horizon),
            col(InboundEvent.received_at) <= horizon,
        )
        .limit(limit)
    ).all()
    for step_id in steps:
        work.job("run_escalation_step", f"step:{step_id}", None, step_id=step_id)
    for page_id, attempts in pages:
        work.job("deliver_page", f"page:{page_id}:{attempts}", None, page_id=page_id)
    for message_id, attempts in messages:
        work.job("deliver_message", f"msg:{message_id}:{attempts}", None, message_id=message_id)
    for event_id in events:
        work.job("process_inbound", f"inbound:{event_id}", None, event_id=event_id)
    return len(work.jobs)
