"""The accept deadline: a ``transfer_timers`` row claimed by one conditional UPDATE; a transfer
nobody accepted in time escalates to the department's other staff and the supervisors."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from gridline.domain.explanations import Reason
from gridline.domain.explanations import why as because_of
from gridline.domain.lifecycle import (
    OPEN_CASE_STATUSES,
    STEP,
    StepStatus,
)
from gridline.domain.transfers import (
    TO_DEPARTMENT,
    TransferStatus,
)
from gridline.kernel.work import Work, in_transaction
from gridline.routing.directory import Directory
from gridline.routing.targets import resolve_targets
from gridline.routing.timeline import publish_case
from gridline.routing.transfer_parties import page_people
from gridline.routing.transfer_states import ESCALATED, WORKER_ID, allowed, transition
from gridline.storage import cases, pages
from gridline.storage import transfers as store

if TYPE_CHECKING:
    from gridline.kernel.services import Services


def run_timer(work: Work, services: Services, timer_id: int) -> str:
    """A transfer nobody accepted in time: page the department's others and the supervisors."""
    session = work.session
    timer = store.claim_timer(session, timer_id, now=work.now, worker=WORKER_ID)
    if timer is None:
        return "not claimed"
    STEP.move(timer, StepStatus.DONE, work.now)
    transfer = store.get(session, timer.transfer_id, fresh=True)
    case = cases.get(session, transfer.case_id, fresh=True) if transfer else None
    if transfer is None or case is None:
        timer.outcome = "gone"
        return timer.outcome
    if case.status not in OPEN_CASE_STATUSES and allowed(transfer.status, TransferStatus.CANCELLED):
        transition(work, transfer, TransferStatus.CANCELLED, "system", {"case_status": case.status})
        timer.outcome = f"case {case.status}"
        return timer.outcome
    if not allowed(transfer.status, TransferStatus.ESCALATED):
        timer.outcome = f"transfer {transfer.status}"
        return timer.outcome
    already = {p.staff_id for p in pages.for_case(session, case.id or 0) if p.reason == TO_DEPARTMENT}
    others = [p for p in store.department_staff(session, transfer.department) if p.id not in already]
    index = Directory.for_services(services).grid_index(session)
    supervisors = [x.staff for x in resolve_targets(session, index, case, "supervisors", work.now,
                                                    services.settings.timezone)]  # fmt: skip
    not_accepted = because_of(Reason.TRANSFER_NOT_ACCEPTED, department=transfer.department)
    paged = page_people(work, case, others + supervisors, ESCALATED, not_accepted)
    hours = services.settings.deadlines.transfer_accept_hours
    transition(work, transfer, TransferStatus.ESCALATED, "system", {"paged": paged, "after_hours": hours})
    case.updated_at = work.now
    publish_case(work, case)
    timer.outcome = f"escalated: {len(paged)} paged"
    return timer.outcome


def requeue_due(work: Work, lease_seconds: float, limit: int = 500) -> int:
    """The safety net (the reconciler's once-a-minute sweep): a job for every due accept timer, and
    timers whose worker vanished released after the lease. A claimed timer runs once."""
    store.release_stale_timers(work.session, claimed_before=work.now - timedelta(seconds=lease_seconds))
    ids = store.due_timer_ids(work.session, due_by=work.now, limit=limit)
    for timer_id in ids:
        work.job("run_transfer_timer", f"transfer-timer:{timer_id}", None, timer_id=timer_id)
    return len(ids)


async def run_transfer_timer(services: Services, timer_id: int) -> str:
    return await in_transaction(services, run_timer, services, timer_id)
