"""Escalation steps: the durable timers of a case's policy (``escalation_steps``).

A step is claimed (pending → running) by one conditional UPDATE, so however many workers race for
it, one runs it. The reconciler's queries over all steps live with the engine's job store.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from sqlalchemy import bindparam, insert, update
from sqlmodel import Session, col, select

from gridline.domain.lifecycle import STEP, StepStatus
from gridline.storage import timers
from gridline.storage.models import EscalationStep
from gridline.storage.prepared import Prepared

_TABLE = EscalationStep.__table__  # type: ignore[attr-defined]
# Core statements, built once and run straight on the driver (``storage.prepared``): a step is
# added, claimed and finished for every report, and neither needs an ORM object (nothing re-reads
# the row in the same transaction).
_ADD = Prepared(insert(_TABLE).returning(_TABLE.c.id))


def add(session: Session, *, case_id: int, round_: int, step_index: int, due_at: datetime) -> int:
    """A new pending step; its id (for its job). One INSERT … RETURNING id, no ORM object."""
    values = {"case_id": case_id, "round": round_, "step_index": step_index, "due_at": due_at,
              "status": StepStatus.PENDING.value, "claimed_at": None, "claimed_by": None, "done_at": None,
              "outcome": None}
    return int(_ADD.scalar(session, values))


def add_done(
    session: Session, *, case_id: int, round_: int, step_index: int, now: datetime, outcome: str, worker: str,
    then: tuple[int, int, datetime] | None = None,
) -> int | None:
    """A step that ran in the unit of work that writes it (a new case's first step): its row, done,
    and with ``then`` (round, position, due time) the next step's, pending, in the same INSERT; the
    next step's id (None without ``then``)."""
    done = {"case_id": case_id, "round": round_, "step_index": step_index, "due_at": now,
            "status": StepStatus.DONE.value, "claimed_at": now, "claimed_by": worker, "done_at": now,
            "outcome": outcome}
    if then is None:
        _ADD.scalar(session, done)
        return None
    pending = {"case_id": case_id, "round": then[0], "step_index": then[1], "due_at": then[2],
               "status": StepStatus.PENDING.value, "claimed_at": None, "claimed_by": None, "done_at": None,
               "outcome": None}
    rows = _ADD_TWO.rows(session, {f"{key}_{n}": value for n, row in enumerate((done, pending))
                                   for key, value in row.items()})
    # RETURNING's order is not promised for a multi-row INSERT: the pending one is the next step.
    return next(int(row_id) for row_id, status in rows if status == StepStatus.PENDING.value)


_ROW_KEYS = ("case_id", "round", "step_index", "due_at", "status", "claimed_at", "claimed_by", "done_at", "outcome")
_ADD_TWO = Prepared(
    insert(_TABLE)
    .values([{key: bindparam(f"{key}_{n}") for key in _ROW_KEYS} for n in range(2)])
    .returning(_TABLE.c.id, _TABLE.c.status)
)


class ClaimedStep(NamedTuple):
    """What running a claimed step needs of its row."""

    id: int
    case_id: int
    round: int
    step_index: int


_CLAIM = Prepared(
    update(_TABLE)
    .where(
        _TABLE.c.id == bindparam("step_id"),
        _TABLE.c.status == STEP.guard(StepStatus.PENDING, StepStatus.RUNNING),
        _TABLE.c.due_at <= bindparam("now"),
    )
    .values(status=StepStatus.RUNNING.value, claimed_at=bindparam("now"), claimed_by=bindparam("worker"))
    .returning(_TABLE.c.id, _TABLE.c.case_id, _TABLE.c.round, _TABLE.c.step_index),
    flush=True,  # the claim and the finish flush pending changes first, as the Session.execute they replace
)
_FINISH = {
    status: Prepared(
        update(_TABLE)
        .where(_TABLE.c.id == bindparam("step_id"), _TABLE.c.status == STEP.guard(StepStatus.RUNNING, status))
        .values(status=status.value, done_at=bindparam("now"), outcome=bindparam("outcome")),
        flush=True,
    )
    for status in (StepStatus.DONE, StepStatus.CANCELLED)
}


def claim(session: Session, step_id: int, *, now: datetime, worker: str) -> ClaimedStep | None:
    """The step, claimed (pending → running) for ``worker`` when it is pending and due; None when
    someone else has it. One ``UPDATE … RETURNING`` of the four columns a run needs."""
    rows = _CLAIM.rows(session, {"step_id": step_id, "now": now, "worker": worker})
    if len(rows) != 1:
        return None
    step_id_, case_id, round_, step_index = rows[0]
    return ClaimedStep(int(step_id_), int(case_id), int(round_), int(step_index))


def finish(session: Session, step_id: int, status: StepStatus, *, now: datetime, outcome: str) -> None:
    """The claimed (running) step ends ``done`` or ``cancelled`` with ``outcome``: one UPDATE."""
    _FINISH[status].run(session, {"step_id": step_id, "now": now, "outcome": outcome})


def cancel_pending(session: Session, case_id: int, *, now: datetime, outcome: str) -> int:
    """Cancel every pending step of the case; returns how many."""
    return timers.cancel_pending(session, EscalationStep, EscalationStep.case_id, case_id, now=now, outcome=outcome)


def last_round(session: Session, case_id: int) -> int:
    """The highest round any step of the case has had (0 without steps)."""
    rounds = session.exec(select(EscalationStep.round).where(EscalationStep.case_id == case_id)).all()
    return max(rounds, default=0)


def last_done(session: Session, case_id: int) -> EscalationStep | None:
    """The latest step of the case that ran (by round, then position)."""
    return session.exec(
        select(EscalationStep)
        .where(EscalationStep.case_id == case_id, EscalationStep.status == "done")
        .order_by(col(EscalationStep.round).desc(), col(EscalationStep.step_index).desc())
    ).first()


def at_position(session: Session, case_id: int, round_: int, step_index: int) -> EscalationStep | None:
    """The case's step at (round, position), whatever its status (the pair is unique)."""
    return session.exec(
        select(EscalationStep).where(
            EscalationStep.case_id == case_id, EscalationStep.round == round_, EscalationStep.step_index == step_index
        )
    ).first()


def for_case(session: Session, case_id: int) -> list[EscalationStep]:
    """Every step of the case in the order they were due."""
    return list(
        session.exec(
            select(EscalationStep)
            .where(EscalationStep.case_id == case_id)
            .order_by(col(EscalationStep.due_at), col(EscalationStep.id))
        )
    )


def run_for_case(session: Session, case_id: int) -> list[EscalationStep]:
    """The case's steps that have run (or were cancelled), in the order they finished."""
    return list(
        session.exec(
            select(EscalationStep)
            .where(EscalationStep.case_id == case_id, col(EscalationStep.done_at).is_not(None))
            .order_by(col(EscalationStep.done_at))
        )
    )


def first_pending(session: Session, case_id: int) -> EscalationStep | None:
    """The case's pending step that comes due first."""
    return session.exec(
        select(EscalationStep)
        .where(EscalationStep.case_id == case_id, EscalationStep.status == "pending")
        .order_by(col(EscalationStep.due_at))
    ).first()


def release_lapsed(session: Session, *, claimed_before: datetime) -> int:
    """Running steps claimed before ``claimed_before`` (their worker vanished) go back to pending; how many."""
    return timers.release_lapsed(session, EscalationStep, claimed_before=claimed_before)


def due_ids(session: Session, *, horizon: datetime, limit: int) -> list[int]:
    """Ids of pending steps due by ``horizon``, the most overdue first."""
    return timers.due_ids(session, EscalationStep, horizon=horizon, limit=limit)
