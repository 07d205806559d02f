"""The visits store (走千家): the only module that queries ``visits``, ``visit_events`` and ``visit_digests``."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, update
from sqlmodel import Session, col, select

from gridline.storage.models import Case, Household, Visit, VisitDigest, VisitEvent

OPEN = ("due", "missed", "escalated")


def add(session: Session, visit: Visit) -> Visit:
    session.add(visit)
    session.flush()
    return visit


def get(session: Session, visit_id: int) -> Visit | None:
    return session.get(Visit, visit_id)


def open_for_household(session: Session, household_id: int) -> Visit | None:
    """The household's visit still owed (at most one is open at a time)."""
    return session.exec(
        select(Visit)
        .where(Visit.household_id == household_id, col(Visit.status).in_(OPEN))
        .order_by(col(Visit.due_at))
    ).first()


def claim(session: Session, visit_id: int, *, now: datetime) -> Visit | None:
    """The visit, claimed for its due step when its timer has come; None when someone else ran it.

    One conditional UPDATE clears the timer: a second worker's UPDATE then matches nothing.
    """
    result = session.execute(
        update(Visit)
        .where(col(Visit.id) == visit_id, col(Visit.next_at).is_not(None), col(Visit.next_at) <= now)
        .values(next_at=None)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return None
    return session.get(Visit, visit_id, populate_existing=True)


def due_timers(session: Session, horizon: datetime, limit: int) -> list[int]:
    """Visits whose timer came due at or before ``horizon`` (the reconciler's safety net)."""
    rows = session.exec(
        select(col(Visit.id))
        .where(col(Visit.next_at).is_not(None), col(Visit.next_at) <= horizon)
        .order_by(col(Visit.next_at))
        .limit(limit)
    ).all()
    return [int(r) for r in rows if r is not None]


def add_event(
    session: Session, visit_id: int, *, at: datetime, kind: str, actor: str, data: dict[str, Any]
) -> VisitEvent:
    event = VisitEvent(visit_id=visit_id, at=at, kind=kind, actor=actor, data=data)
    session.add(event)
    return event


def events(session: Session, visit_id: int) -> list[VisitEvent]:
    return list(
        session.exec(select(VisitEvent).where(VisitEvent.visit_id == visit_id).order_by(col(VisitEvent.id)))
    )


def unplanned_households(session: Session, limit: int) -> list[Household]:
    """Households on the roster with no visit owed (new ones, or ones whose visit was cancelled)."""
    owed = select(Visit.id).where(Visit.household_id == Household.id, col(Visit.status).in_(OPEN)).exists()
    return list(
        session.exec(
            select(Household)
            .where(col(Household.removed_at).is_(None), ~owed)
            .order_by(col(Household.id))
            .limit(limit)
        )
    )


def last_done(session: Session, household_id: int) -> Visit | None:
    return session.exec(
        select(Visit)
        .where(Visit.household_id == household_id, Visit.status == "done")
        .order_by(col(Visit.done_at).desc())
    ).first()


def last_done_at(session: Session, household_ids: Collection[int]) -> dict[int, datetime]:
    """When each of these households was last visited (those never visited are left out)."""
    found: dict[int, datetime] = {}
    ids = list(household_ids)
    for start in range(0, len(ids), 500):
        rows = session.exec(
            select(Visit.household_id, func.max(Visit.done_at))
            .where(col(Visit.household_id).in_(ids[start : start + 500]), Visit.status == "done")
            .group_by(col(Visit.household_id))
        ).all()
        found.update({hid: at for hid, at in rows if at is not None})
    return found


def history(session: Session, household_id: int, limit: int = 5) -> list[Visit]:
    """The household's latest visits that are over (done, missed or not), newest first."""
    return list(
        session.exec(
            select(Visit)
            .where(Visit.household_id == household_id)
            .order_by(col(Visit.due_at).desc(), col(Visit.id).desc())
            .limit(limit)
        )
    )


def open_cases_at(session: Session, household_ids: Collection[int], statuses: Collection[str]) -> list[Case]:
    """Open 主动发现 cases found on visits to these households."""
    if not household_ids:
        return []
    return list(
        session.exec(
            select(Case)
            .join(Visit, and_(col(Visit.case_id) == col(Case.id)))
            .where(col(Visit.household_id).in_(list(household_ids)), col(Case.status).in_(list(statuses)))
            .order_by(col(Case.created_at).desc())
        )
    )


def owed_by_staff(session: Session, staff_id: int, *, until: datetime) -> list[tuple[Visit, Household]]:
    """Open visits assigned to ``staff_id`` due by ``until`` (overdue ones too), soonest first."""
    return list(
        session.exec(
            select(Visit, Household)
            .join(Household, col(Household.id) == col(Visit.household_id))
            .where(
                Visit.staff_id == staff_id, col(Visit.status).in_(OPEN), col(Visit.due_at) <= until,
                col(Household.removed_at).is_(None),
            )
            .order_by(col(Visit.due_at), col(Visit.id))
        )
    )  # type: ignore[arg-type]


def owed_in_grids(
    session: Session, grid_codes: Collection[str] | None, *, until: datetime, limit: int = 200
) -> list[tuple[Visit, Household]]:
    """Open visits in these grids (None = every grid) due by ``until``, soonest first."""
    query = (
        select(Visit, Household)
        .join(Household, col(Household.id) == col(Visit.household_id))
        .where(col(Visit.status).in_(OPEN), col(Visit.due_at) <= until, col(Household.removed_at).is_(None))
    )
    if grid_codes is not None:
        query = query.where(col(Visit.grid_code).in_(sorted(grid_codes)))
    return list(session.exec(query.order_by(col(Visit.due_at), col(Visit.id)).limit(limit)))  # type: ignore[arg-type]


def staff_owing(session: Session, *, until: datetime) -> list[int]:
    """Staff with open visits due by ``until``."""
    rows = session.exec(
        select(Visit.staff_id)
        .where(col(Visit.status).in_(OPEN), col(Visit.due_at) <= until, col(Visit.staff_id).is_not(None))
        .distinct()
    ).all()
    return sorted(int(r) for r in rows if r is not None)


def grids_owing(session: Session, *, until: datetime) -> list[str]:
    """Grids with open visits due by ``until`` (their leaders get the grid's digest)."""
    rows = session.exec(
        select(Visit.grid_code).where(col(Visit.status).in_(OPEN), col(Visit.due_at) <= until).distinct()
    ).all()
    return sorted(str(r) for r in rows)


def digest_sent(session: Session, staff_id: int, day: str) -> bool:
    query = select(VisitDigest.id).where(VisitDigest.staff_id == staff_id, VisitDigest.day == day)
    return session.exec(query).first() is not None


def record_digest(session: Session, staff_id: int, day: str, *, at: datetime, count: int, channel: str | None) -> None:
    session.add(VisitDigest(staff_id=staff_id, day=day, sent_at=at, count=count, channel=channel))
    session.flush()


def owed_in_period(
    session: Session, since: datetime, until: datetime, now: datetime, grid_codes: Collection[str] | None
) -> list[Visit]:
    """Visits (not cancelled) of a period, in these grids (None = all): those that fell due in it (up
    to ``now``) and those made in it (a visit made early counts in the period it was made)."""
    due_by = min(until, now)
    query = select(Visit).where(
        col(Visit.status) != "cancelled",
        ((col(Visit.due_at) >= since) & (col(Visit.due_at) < due_by))
        | ((col(Visit.done_at) >= since) & (col(Visit.done_at) < until)),
    )
    if grid_codes is not None:
        query = query.where(col(Visit.grid_code).in_(sorted(grid_codes)))
    return list(session.exec(query))


def overdue(session: Session, now: datetime, grid_codes: Collection[str] | None) -> list[Visit]:
    """Visits still owed whose deadline has passed."""
    query = select(Visit).where(col(Visit.status).in_(OPEN), col(Visit.due_at) < now)
    if grid_codes is not None:
        query = query.where(col(Visit.grid_code).in_(sorted(grid_codes)))
    return list(session.exec(query))


def delete_for_households(session: Session, household_ids: Collection[int]) -> int:
    """Delete the visits of purged households with their timelines; returns how many. A visit's
    note is about the people who lived there; the 主动发现 case a visit opened stays."""
    ids = list(session.exec(select(Visit.id).where(col(Visit.household_id).in_(household_ids))))
    if ids:
        session.execute(delete(VisitEvent).where(col(VisitEvent.visit_id).in_(ids)))
        session.execute(delete(Visit).where(col(Visit.id).in_(ids)))
    return len(ids)
