"""The check-in store: the only module that queries ``checkins``, ``checkin_steps`` and
``checkin_events`` one check-in at a time (and reads the roster's opt-ins for planning). A sweep's
bulk writes are ``storage.sweeps``; the measures' reads ``storage.checkin_measures``.

Steps are claimed pending → running by one conditional UPDATE, like escalation steps.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from gridline.storage import timers
from gridline.storage.bulk import chunks
from gridline.storage.models import (
    ChannelIdentity,
    CheckIn,
    CheckInEvent,
    CheckInStep,
    Household,
    HouseholdPerson,
)
from gridline.storage.timers import claim_due

# Check-in statuses in which a bare "1"/"2" from the person answers it (routing.checkin_states).
WAITING = ("asked", "retried", "escalated")


def get(session: Session, checkin_id: int, *, fresh: bool = False) -> CheckIn | None:
    return session.get(CheckIn, checkin_id, populate_existing=fresh)


def add_event(session: Session, checkin_id: int, *, at: datetime, kind: str, actor: str, data: dict[str, Any]) -> None:
    session.add(CheckInEvent(checkin_id=checkin_id, at=at, kind=kind, actor=actor, data=data))


def events_of(session: Session, checkin_id: int) -> list[CheckInEvent]:
    return list(
        session.exec(select(CheckInEvent).where(CheckInEvent.checkin_id == checkin_id).order_by(col(CheckInEvent.id)))
    )


# --- planning -------------------------------------------------------------------------------


def opted_in_members(session: Session) -> list[tuple[Household, HouseholdPerson]]:
    """Members who chose a check-in channel, in households that consented and are on the roster."""
    rows = session.exec(
        select(Household, HouseholdPerson)
        .join(HouseholdPerson, col(HouseholdPerson.household_id) == col(Household.id))
        .where(
            col(Household.removed_at).is_(None),
            Household.consent_checkin == True,  # noqa: E712
            col(HouseholdPerson.checkin_channel).is_not(None),
            HouseholdPerson.kind == "member",
            col(HouseholdPerson.removed_at).is_(None),
        )
        .order_by(col(HouseholdPerson.id))
    )
    return [(h, p) for h, p in rows]


def planned_cycles(session: Session, person_ids: Sequence[int], cycles: Sequence[str]) -> set[tuple[int, str]]:
    """Which (person, local day) daily check-ins exist already."""
    found: set[tuple[int, str]] = set()
    for batch in chunks(list(person_ids)):
        rows = session.exec(
            select(CheckIn.person_id, CheckIn.cycle).where(
                CheckIn.kind == "daily", col(CheckIn.person_id).in_(batch), col(CheckIn.cycle).in_(list(cycles))
            )
        )
        found.update((int(p or 0), c) for p, c in rows)
    return found


def add_planned(session: Session, checkin: CheckIn, first_stage: str) -> CheckInStep | None:
    """Insert a check-in with its first step; None when another planner inserted it first."""
    try:
        with session.begin_nested():
            session.add(checkin)
            session.flush()
            step = CheckInStep(checkin_id=checkin.id or 0, stage=first_stage, due_at=checkin.due_at)
            session.add(step)
            session.flush()
    except IntegrityError:
        return None
    return step


def previous_daily(session: Session, person_id: int, before_cycle: str) -> CheckIn | None:
    """The member's latest daily check-in before ``before_cycle`` (a local date)."""
    return session.exec(
        select(CheckIn)
        .where(CheckIn.kind == "daily", CheckIn.person_id == person_id, col(CheckIn.cycle) < before_cycle)
        .order_by(col(CheckIn.cycle).desc())
    ).first()


def cancel_open_of_person(session: Session, person_id: int, *, now: datetime) -> list[CheckIn]:
    """The member's daily check-ins not asked yet (their opt-in changed: the caller re-plans them)."""
    return list(
        session.exec(
            select(CheckIn).where(
                CheckIn.kind == "daily", CheckIn.person_id == person_id, CheckIn.status == "scheduled"
            )
        )
    )


# --- steps ----------------------------------------------------------------------------------


def add_step(session: Session, checkin_id: int, stage: str, due_at: datetime) -> CheckInStep:
    step = CheckInStep(checkin_id=checkin_id, stage=stage, due_at=due_at)
    session.add(step)
    session.flush()
    return step


def claim_step(session: Session, step_id: int, *, now: datetime, worker: str) -> CheckInStep | None:
    """The step, claimed for ``worker`` when it is pending and due; None when someone else has it."""
    return claim_due(session, CheckInStep, step_id, now=now, worker=worker)


def cancel_pending_steps(session: Session, checkin_id: int, *, now: datetime, outcome: str) -> int:
    """Cancel the check-in's pending steps; how many."""
    return timers.cancel_pending(session, CheckInStep, CheckInStep.checkin_id, checkin_id, now=now, outcome=outcome)


def steps_of(session: Session, checkin_id: int) -> list[CheckInStep]:
    return list(
        session.exec(
            select(CheckInStep)
            .where(CheckInStep.checkin_id == checkin_id)
            .order_by(col(CheckInStep.due_at), col(CheckInStep.id))
        )
    )


def release_lapsed_steps(session: Session, *, before: datetime) -> None:
    """Steps whose worker vanished (claimed before ``before``) go back to pending."""
    timers.release_lapsed(session, CheckInStep, claimed_before=before)


def due_step_ids(session: Session, *, horizon: datetime, limit: int) -> list[int]:
    """Pending steps due by ``horizon``, the most overdue first."""
    return timers.due_ids(session, CheckInStep, horizon=horizon, limit=limit)


# --- answers --------------------------------------------------------------------------------


def waiting_question(session: Session, *, identity_id: int | None, resident_id: int | None) -> CheckIn | None:
    """The latest question still waiting for this person's "1"/"2" (on this identity or for this resident)."""
    conditions = []
    if identity_id is not None:
        conditions.append(col(CheckIn.identity_id) == identity_id)
    if resident_id is not None:
        conditions.append(col(CheckIn.resident_id) == resident_id)
    if not conditions:
        return None
    from sqlalchemy import or_

    return session.exec(
        select(CheckIn)
        .where(col(CheckIn.status).in_(WAITING), or_(*conditions))
        .order_by(col(CheckIn.asked_at).desc(), col(CheckIn.id).desc())
    ).first()


# --- who is asked ---------------------------------------------------------------------------


def identity_for(
    session: Session,
    channel: str,
    external_id: str,
    now: datetime,
    *,
    bot_name: str = "",
    resident_id: int | None = None,
    staff_id: int | None = None,
) -> ChannelIdentity:
    """The identity of ``external_id`` on ``channel``, created (for this resident or staff member) if new."""
    from gridline.storage import people

    identity = people.find_identity(session, channel, external_id, bot_name)
    if identity is None:
        identity = ChannelIdentity(
            channel=channel,
            external_id=external_id,
            bot_name=bot_name,
            resident_id=resident_id,
            staff_id=staff_id,
            created_at=now,
        )
        session.add(identity)
        session.flush()
    elif identity.resident_id is None and identity.staff_id is None and (resident_id or staff_id):
        identity.resident_id, identity.staff_id = resident_id, staff_id
    return identity


def resident_for_member(session: Session, household: Household, person: HouseholdPerson, now: datetime) -> int | None:
    """The resident record behind a household member (adopted by phone, or created), linked to the member."""
    from gridline.storage import people
    from gridline.storage.models import Resident

    if person.resident_id is not None:
        return person.resident_id
    if not person.phone:
        return None
    known = people.find_identity(session, "sms", person.phone, "")
    resident_id = known.resident_id if known is not None else None
    if resident_id is None:
        existing = people.first_resident_with_phone(session, person.phone)
        resident_id = existing.id if existing is not None else None
    if resident_id is None:
        resident = Resident(
            name=person.name,
            phone=person.phone,
            grid_code=household.grid_code,
            address_id=household.address_id,
            address_text=household.address_text,
            lang=household.lang,
            created_at=now,
        )
        session.add(resident)
        session.flush()
        resident_id = resident.id
    person.resident_id = resident_id
    return resident_id


def household_of(session: Session, household_id: int) -> Household | None:
    return session.get(Household, household_id)


def person_of(session: Session, person_id: int | None) -> HouseholdPerson | None:
    return session.get(HouseholdPerson, person_id) if person_id is not None else None


def family_of(session: Session, household_id: int) -> list[HouseholdPerson]:
    return list(
        session.exec(
            select(HouseholdPerson)
            .where(
                HouseholdPerson.household_id == household_id, HouseholdPerson.kind == "family",
                col(HouseholdPerson.removed_at).is_(None),
            )
            .order_by(col(HouseholdPerson.position))
        )
    )


def delete_for_households(session: Session, household_ids: Sequence[int]) -> int:
    """Delete the check-ins of purged households with their timers and timelines; returns how many.

    Their cases stay: a case is the city's record, and a check-in only pointed at it."""
    return _delete(session, list(session.exec(select(CheckIn.id).where(col(CheckIn.household_id).in_(household_ids)))))


def delete_for_people(session: Session, person_ids: Sequence[int]) -> int:
    """Delete the check-ins of purged household members (:func:`delete_for_households`, by person)."""
    return _delete(session, list(session.exec(select(CheckIn.id).where(col(CheckIn.person_id).in_(person_ids)))))


def _delete(session: Session, ids: list[int | None]) -> int:
    for part in chunks(ids, 500):
        session.execute(delete(CheckInStep).where(col(CheckInStep.checkin_id).in_(part)))
        session.execute(delete(CheckInEvent).where(col(CheckInEvent.checkin_id).in_(part)))
        session.execute(delete(CheckIn).where(col(CheckIn.id).in_(part)))
    return len(ids)
