"""Transfers to departments (``transfers``), their timers (``transfer_timers``) and deadline
extensions (``extensions``).

A timer is claimed (pending → running) by one conditional UPDATE, so however many workers race for
it, one runs it.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlmodel import Session, col, select

from gridline.storage import timers
from gridline.storage.models import Extension, Staff, Transfer, TransferTimer
from gridline.storage.timers import claim_due


def add(session: Session, transfer: Transfer) -> Transfer:
    """Store a new transfer (flushed, so it has an id)."""
    session.add(transfer)
    session.flush()
    return transfer


def get(session: Session, transfer_id: int, *, fresh: bool = False) -> Transfer | None:
    return session.get(Transfer, transfer_id, populate_existing=fresh)


def for_case(session: Session, case_id: int) -> list[Transfer]:
    """Every transfer of the case, oldest first."""
    return list(
        session.exec(select(Transfer).where(Transfer.case_id == case_id).order_by(col(Transfer.id)))
    )


def latest_in(session: Session, case_id: int, statuses: Collection[str]) -> Transfer | None:
    """The case's newest transfer in ``statuses``."""
    return session.exec(
        select(Transfer)
        .where(Transfer.case_id == case_id, col(Transfer.status).in_(list(statuses)))
        .order_by(col(Transfer.id).desc())
    ).first()


def open_by_case(session: Session, case_ids: Collection[int], statuses: Collection[str]) -> dict[int, Transfer]:
    """The newest transfer in ``statuses`` of each of these cases."""
    if not case_ids:
        return {}
    rows = session.exec(
        select(Transfer)
        .where(col(Transfer.case_id).in_(list(case_ids)), col(Transfer.status).in_(list(statuses)))
        .order_by(col(Transfer.id))
    )
    return {row.case_id: row for row in rows}


def department_staff(session: Session, department: str) -> list[Staff]:
    """The active staff of a department, by code."""
    return list(
        session.exec(
            select(Staff)
            .where(Staff.role == "department", Staff.department == department, col(Staff.active).is_(True))
            .order_by(col(Staff.code))
        )
    )


# -- timers ---------------------------------------------------------------------------------------


def add_timer(session: Session, *, transfer_id: int, kind: str, due_at: datetime) -> TransferTimer:
    """A new pending timer (flushed, so it has an id for its job)."""
    timer = TransferTimer(transfer_id=transfer_id, kind=kind, due_at=due_at)
    session.add(timer)
    session.flush()
    return timer


def claim_timer(session: Session, timer_id: int, *, now: datetime, worker: str) -> TransferTimer | None:
    """The timer, claimed for ``worker`` when it is pending and due; None when someone else has it."""
    return claim_due(session, TransferTimer, timer_id, now=now, worker=worker)


def cancel_timers(session: Session, transfer_id: int, *, now: datetime, outcome: str) -> int:
    """Cancel the transfer's pending timers; returns how many."""
    return timers.cancel_pending(session, TransferTimer, TransferTimer.transfer_id, transfer_id, now=now,
                                 outcome=outcome)


def release_stale_timers(session: Session, *, claimed_before: datetime) -> None:
    """Timers whose worker vanished go back to pending (the reconciler, after the lease)."""
    timers.release_lapsed(session, TransferTimer, claimed_before=claimed_before)


def due_timer_ids(session: Session, *, due_by: datetime, limit: int) -> list[int]:
    """Pending timers due by ``due_by``, oldest first (the reconciler's safety net)."""
    return timers.due_ids(session, TransferTimer, horizon=due_by, limit=limit)


def timers_of(session: Session, transfer_id: int) -> list[TransferTimer]:
    return list(
        session.exec(
            select(TransferTimer).where(TransferTimer.transfer_id == transfer_id).order_by(col(TransferTimer.id))
        )
    )


# -- extensions -----------------------------------------------------------------------------------


def add_extension(session: Session, extension: Extension) -> Extension:
    session.add(extension)
    session.flush()
    return extension


def get_extension(session: Session, extension_id: int) -> Extension | None:
    return session.get(Extension, extension_id)


def extensions_of(session: Session, case_id: int) -> list[Extension]:
    return list(session.exec(select(Extension).where(Extension.case_id == case_id).order_by(col(Extension.id))))


def latest_extension(session: Session, case_id: int, statuses: Collection[str]) -> Extension | None:
    return session.exec(
        select(Extension)
        .where(Extension.case_id == case_id, col(Extension.status).in_(list(statuses)))
        .order_by(col(Extension.id).desc())
    ).first()
