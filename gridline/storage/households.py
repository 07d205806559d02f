"""The household roster's store: the only module that queries ``households`` and ``household_people``.

Every read takes a :class:`RosterScope`, so no caller can list households outside the grids the
viewer may see.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from gridline.storage import checkins, visits
from gridline.storage.bulk import chunks
from gridline.storage.models import Household, HouseholdPerson


@dataclass(frozen=True)
class RosterScope:
    """The base grids whose households may be read; None = every grid."""

    grid_codes: frozenset[str] | None

    def allows(self, grid_code: str) -> bool:
        return self.grid_codes is None or grid_code in self.grid_codes


def _visible(scope: RosterScope) -> SelectOfScalar[Household]:
    query = select(Household).where(col(Household.removed_at).is_(None))
    if scope.grid_codes is not None:
        query = query.where(col(Household.grid_code).in_(sorted(scope.grid_codes)))
    return query


def listing(
    session: Session, scope: RosterScope, *, grid: str | None = None, tag: str | None = None,
    limit: int = 50, offset: int = 0,
) -> tuple[list[Household], int]:
    """A page of the households in scope (optionally of one grid, with one tag) and how many there are."""
    query = _visible(scope)
    if grid:
        query = query.where(Household.grid_code == grid)
    rows = list(
        session.exec(
            query.order_by(col(Household.grid_code), col(Household.building), col(Household.unit), col(Household.room))
        )
    )
    if tag:
        # Tags are a JSON list: filtered here so SQLite and PostgreSQL agree (a grid holds hundreds, not millions).
        rows = [row for row in rows if tag in (row.tags or [])]
    return rows[offset : offset + limit], len(rows)


def get(session: Session, scope: RosterScope, household_id: int) -> Household | None:
    return session.exec(_visible(scope).where(Household.id == household_id)).first()


def people_of(session: Session, household_id: int, *, with_removed: bool = False) -> list[HouseholdPerson]:
    """The household's members and family on the roster (``with_removed``: and those a re-import
    no longer lists, whose rows stay for the check-ins that point at them)."""
    query = select(HouseholdPerson).where(HouseholdPerson.household_id == household_id)
    if not with_removed:
        query = query.where(col(HouseholdPerson.removed_at).is_(None))
    return list(session.exec(query.order_by(col(HouseholdPerson.kind).desc(), col(HouseholdPerson.position))))


def by_room(session: Session, grid_code: str, building: str, unit: str, room: str) -> Household | None:
    return session.exec(
        select(Household).where(
            Household.grid_code == grid_code, Household.building == building, Household.unit == unit,
            Household.room == room,
        )
    ).first()


def save_people(session: Session, household_id: int, people: Iterable[HouseholdPerson]) -> None:
    """Write the household's people (new rows and changed ones) in the given order; flushed, so new
    rows have their ids."""
    for position, person in enumerate(people):
        person.household_id, person.position = household_id, position
        session.add(person)
    session.flush()


def counts_by_tag(session: Session, scope: RosterScope) -> dict[str, int]:
    counts: dict[str, int] = {}
    for household in session.exec(_visible(scope)):
        for tag in household.tags or []:
            counts[tag] = counts.get(tag, 0) + 1
    return counts


def purge_removed(session: Session, before: datetime) -> int:
    """Delete the households removed before ``before`` with their people and the check-ins and visits
    written about them (foreign keys refuse a household they still point at), and the people removed
    from a household that stays; returns how many households."""
    ids = [
        household_id
        for household_id in session.exec(
            select(Household.id).where(col(Household.removed_at).is_not(None), col(Household.removed_at) < before)
        )
        if household_id is not None
    ]
    _purge_removed_people(session, before)
    if not ids:
        return 0
    checkins.delete_for_households(session, ids)
    visits.delete_for_households(session, ids)
    session.execute(delete(HouseholdPerson).where(col(HouseholdPerson.household_id).in_(ids)))
    session.execute(delete(Household).where(col(Household.id).in_(ids)))
    return len(ids)


def _purge_removed_people(session: Session, before: datetime) -> None:
    """Members and family contacts a roster re-import stopped listing before ``before`` (moved out,
    died): their rows and their check-ins go, as a removed household's do."""
    people = [
        person_id
        for person_id in session.exec(
            select(HouseholdPerson.id).where(
                col(HouseholdPerson.removed_at).is_not(None), col(HouseholdPerson.removed_at) < before
            )
        )
        if person_id is not None
    ]
    for part in chunks(people, 500):
        checkins.delete_for_people(session, part)
        session.execute(delete(HouseholdPerson).where(col(HouseholdPerson.id).in_(part)))


def total(session: Session) -> int:
    return int(session.exec(select(func.count()).select_from(Household)).one())


def room_elsewhere(session: Session, grid_code: str, building: str, unit: str, room: str) -> bool:
    """Whether a household with this room key lives in a grid other than ``grid_code``."""
    return session.exec(
        select(Household.id).where(
            Household.building == building, Household.unit == unit, Household.room == room,
            Household.grid_code != grid_code, col(Household.removed_at).is_(None),
        )
    ).first() is not None
