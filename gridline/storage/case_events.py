"""A case's timeline (``case_events``): one entry per thing that happened to it, of a kind in
``domain.case_events.CaseEventKind`` (written through ``routing.timeline.record_event``)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from gridline.storage.models import CaseEvent
from gridline.storage.rows import insert_row


def add_event(
    session: Session, case_id: int, *, at: datetime, kind: str, actor: str, data: dict[str, Any]
) -> CaseEvent:
    """Add a timeline entry to the case (one INSERT now, ``storage.rows``; the case is stored already)."""
    return insert_row(session, CaseEvent, {"case_id": case_id, "at": at, "kind": kind, "actor": actor, "data": data})


def events(session: Session, case_id: int) -> list[CaseEvent]:
    """The case's timeline, oldest first."""
    return list(
        session.exec(
            select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(col(CaseEvent.at), col(CaseEvent.id))
        )
    )


def latest_event(session: Session, case_id: int, kind: str) -> CaseEvent | None:
    """The case's most recent timeline entry of ``kind``."""
    return session.exec(
        select(CaseEvent).where(CaseEvent.case_id == case_id, CaseEvent.kind == kind).order_by(col(CaseEvent.id).desc())
    ).first()


def events_since(session: Session, case_id: int, since: datetime) -> list[CaseEvent]:
    """The case's timeline entries at or after ``since``, in the order they were written."""
    return list(
        session.exec(
            select(CaseEvent)
            .where(CaseEvent.case_id == case_id, col(CaseEvent.at) >= since)
            .order_by(col(CaseEvent.id))
        )
    )


def events_of_kinds(session: Session, case_id: int, kinds: Collection[str]) -> list[CaseEvent]:
    """The case's timeline entries of these kinds (in no particular order)."""
    return list(
        session.exec(select(CaseEvent).where(CaseEvent.case_id == case_id, col(CaseEvent.kind).in_(sorted(kinds))))
    )


def event_kinds_of(session: Session, case_ids: Sequence[int], kinds: Collection[str]) -> dict[int, set[str]]:
    """Per case, which of ``kinds`` are on its timeline (cases with none are left out)."""
    found: dict[int, set[str]] = defaultdict(set)
    for start in range(0, len(case_ids), 500):
        chunk = list(case_ids[start : start + 500])
        stmt = sa_select(col(CaseEvent.case_id), col(CaseEvent.kind)).where(
            col(CaseEvent.case_id).in_(chunk), col(CaseEvent.kind).in_(list(kinds))
        )
        for case_id, kind in session.execute(stmt).all():
            found[case_id].add(kind)
    return found
