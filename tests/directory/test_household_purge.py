"""A household removed from the roster is purged after ``roster.retention_days`` together with what
grid work wrote about it — its people, its check-ins (with their timers and timelines) and its visits
(with their timelines) — on SQLite and PostgreSQL, whose foreign keys refuse to delete a household
that a check-in or a visit still points at. Cases the work opened stay (they are the city's record)."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from gridline.kernel.services import Services
from gridline.storage import households
from gridline.storage.models import (
    Case,
    CheckIn,
    CheckInEvent,
    CheckInStep,
    Household,
    HouseholdPerson,
    Visit,
    VisitEvent,
)


def _household_with_history(services: Services) -> tuple[int, int, int, list[int], list[int]]:
    """A household with a member, a visit and a check-in, each with a timeline; the check-in and the
    visit opened a case. Returns (household id, case of the check-in, case of the visit)."""
    now = services.clock.now()
    with services.db.session() as session:
        case_ids = []
        for n in (1, 2):
            case = Case(ref=f"PURGE{n}", grid_code="ZY01-01-1", category="other", priority="normal",
                        status="open", channel="sms", summary="楼里的事", created_at=now, updated_at=now)
            session.add(case)
            session.flush()
            case_ids.append(case.id)
        home = Household(grid_code="ZY01-01-1", building="99", unit="1", room="101", tags=["elderly_alone"],
                         consent_checkin=True, created_at=now, updated_at=now)
        session.add(home)
        session.flush()
        person = HouseholdPerson(household_id=home.id, kind="member", name="王奶奶", phone="+8613800000099")
        session.add(person)
        session.flush()
        checkin = CheckIn(household_id=home.id, person_id=person.id, grid_code="ZY01-01-1", channel="sms",
                          cycle="2026-01-01", status="closed", due_at=now, case_id=case_ids[0],
                          created_at=now, updated_at=now)
        visit = Visit(household_id=home.id, grid_code="ZY01-01-1", status="done", due_at=now,
                      created_at=now, updated_at=now, note="老人腿疼", case_id=case_ids[1])
        session.add_all([checkin, visit])
        session.flush()
        session.add_all([
            CheckInStep(checkin_id=checkin.id, stage="ask", due_at=now, status="done"),
            CheckInEvent(checkin_id=checkin.id, at=now, kind="asked"),
            VisitEvent(visit_id=visit.id, at=now, kind="done"),
        ])
        home.removed_at = now
        session.commit()
        return home.id, case_ids[0], case_ids[1], [checkin.id], [visit.id]


async def test_a_removed_household_is_purged_with_its_checkins_and_visits(scenario_services: Services) -> None:
    services = scenario_services
    home_id, checkin_case, visit_case, checkins, visits = _household_with_history(services)
    now = services.clock.now()
    days = services.settings.roster.retention_days
    with services.db.session() as session:
        assert households.purge_removed(session, now - timedelta(days=days)) == 0  # not yet
        session.commit()
    with services.db.session() as session:
        assert households.purge_removed(session, now + timedelta(seconds=1)) == 1
        session.commit()
    with services.db.session() as session:
        assert session.get(Household, home_id) is None
        assert session.exec(select(HouseholdPerson).where(HouseholdPerson.household_id == home_id)).all() == []
        assert session.exec(select(CheckIn).where(CheckIn.household_id == home_id)).all() == []
        assert session.exec(select(Visit).where(Visit.household_id == home_id)).all() == []
        assert session.exec(select(CheckInStep).where(CheckInStep.checkin_id.in_(checkins))).all() == []
        assert session.exec(select(CheckInEvent).where(CheckInEvent.checkin_id.in_(checkins))).all() == []
        assert session.exec(select(VisitEvent).where(VisitEvent.visit_id.in_(visits))).all() == []
        assert session.get(Case, checkin_case) is not None and session.get(Case, visit_case) is not None


async def test_a_person_a_re_import_stopped_listing_is_purged_after_retention(scenario_services: Services) -> None:
    services = scenario_services
    now = services.clock.now()
    days = services.settings.roster.retention_days
    with services.db.session() as session:
        home = Household(grid_code="ZY01-01-1", building="98", unit="1", room="101", consent_checkin=True,
                         created_at=now, updated_at=now)
        session.add(home)
        session.flush()
        stays = HouseholdPerson(household_id=home.id, kind="member", name="李爷爷", phone="+8613800000098")
        moved = HouseholdPerson(household_id=home.id, kind="member", name="李奶奶", phone="+8613800000097",
                                removed_at=now)
        session.add_all([stays, moved])
        session.flush()
        checkin = CheckIn(household_id=home.id, person_id=moved.id, grid_code="ZY01-01-1", channel="sms",
                          cycle="2026-01-02", status="cancelled", due_at=now, created_at=now, updated_at=now)
        session.add(checkin)
        session.flush()
        session.add(CheckInEvent(checkin_id=checkin.id, at=now, kind="cancelled"))
        ids = (home.id, stays.id, moved.id, checkin.id)
    home_id, stays_id, moved_id, checkin_id = ids
    with services.db.session() as session:
        households.purge_removed(session, now - timedelta(days=days))
    with services.db.session() as session:
        assert session.get(HouseholdPerson, moved_id) is not None  # not yet
    with services.db.session() as session:
        assert households.purge_removed(session, now + timedelta(seconds=1)) == 0  # no household went
    with services.db.session() as session:
        assert session.get(HouseholdPerson, moved_id) is None and session.get(CheckIn, checkin_id) is None
        assert session.get(HouseholdPerson, stays_id) is not None and session.get(Household, home_id) is not None
