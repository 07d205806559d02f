"""Claiming a durable timer row (``models.timers.TimerRow``: escalation steps, transfer timers,
check-in steps): the one conditional UPDATE all of them use."""

from __future__ import annotations

from datetime import datetime
from typing import TypeVar

from sqlalchemy import update
from sqlmodel import Session, col

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
