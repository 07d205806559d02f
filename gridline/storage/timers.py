"""The statements every durable timer table (``models.timers.TimerRow``: escalation steps, transfer
timers, check-in steps) runs alike: claim one that is due, cancel an owner's pending ones, give back
the ones whose worker vanished, find the due ones. Each store names them for its concept
(``steps.cancel_pending``, ``transfers.cancel_timers``, ``checkins.cancel_pending_steps``, …)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import update
from sqlmodel import Session, col, select

from gridline.domain.lifecycle import STEP, StepStatus
from gridline.storage.claiming import claimed
from gridline.storage.models.timers import TimerRow

T = TypeVar("T", bound=TimerRow)


def claim_due(session: Session, model: type[T], timer_id: int, *, now: datetime, worker: str) -> T | None:
    """The timer, claimed (pending → running) for ``worker`` when it is pending and due; None when it
    is not due or someone else has it. One ``UPDATE … RETURNING``, so two workers never both run it."""
    statement = (
        update(model)
        .where(
            col(model.id) == timer_id,  # type: ignore[attr-defined]
            col(model.status) == STEP.guard(StepStatus.PENDING, StepStatus.RUNNING),
            col(model.due_at) <= now,
        )
        .values(status=StepStatus.RUNNING.value, claimed_at=now, claimed_by=worker)
    )
    return claimed(session, model, statement)


def cancel_pending(session: Session, model: type[T], owner: Any, owner_id: int, *, now: datetime,
                   outcome: str) -> int:
    """Cancel the pending timers of ``model`` whose ``owner`` column is ``owner_id``; how many."""
    result = session.execute(
        update(model)
        .where(col(owner) == owner_id, col(model.status) == STEP.guard(StepStatus.PENDING, StepStatus.CANCELLED))
        .values(status=StepStatus.CANCELLED.value, done_at=now, outcome=outcome[:300])
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def release_lapsed(session: Session, model: type[T], *, claimed_before: datetime) -> int:
    """Running timers claimed before ``claimed_before`` (their worker vanished) go back to pending; how many."""
    result = session.execute(
        update(model)
        .where(col(model.status) == STEP.guard(StepStatus.RUNNING, StepStatus.PENDING),
               col(model.claimed_at) < claimed_before)
        .values(status=StepStatus.PENDING.value)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def due_ids(session: Session, model: type[T], *, horizon: datetime, limit: int) -> list[int]:
    """Ids of pending timers due by ``horizon``, the most overdue first (the reconciler's safety net)."""
    ids = session.exec(
        select(model.id)  # type: ignore[attr-defined]
        .where(model.status == "pending", col(model.due_at) <= horizon)
        .order_by(col(model.due_at))
        .limit(limit)
    ).all()
    return [int(i) for i in ids if i is not None]
