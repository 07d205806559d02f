"""Looking at visits the way a supervisor would (straight from the database), for the visit tests."""

from __future__ import annotations

from sqlmodel import col, select

from gridline.kernel.services import Services
from gridline.storage.models import Case, Household, Message, Staff, Visit, VisitEvent

VISITS_ON = {"enabled": True}
GRID = "ZY01-01-1"
ALONE = "1-1-101"  # 王桂芝: 独居老人, 高龄 → weekly


def household(services: Services, room: str, grid: str = GRID) -> Household:
    with services.db.session() as session:
        for row in session.exec(select(Household).where(Household.grid_code == grid)):
            if row.room_key == room:
                return row
    raise AssertionError(f"no household {room} in {grid}")


def visits_of(services: Services, room: str, grid: str = GRID) -> list[Visit]:
    hid = household(services, room, grid).id
    with services.db.session() as session:
        return list(session.exec(select(Visit).where(Visit.household_id == hid).order_by(col(Visit.id))))


def open_visit(services: Services, room: str, grid: str = GRID) -> Visit:
    (visit,) = [v for v in visits_of(services, room, grid) if v.status in ("due", "missed", "escalated")]
    return visit


def events_of(services: Services, visit_id: int) -> list[VisitEvent]:
    with services.db.session() as session:
        query = select(VisitEvent).where(VisitEvent.visit_id == visit_id).order_by(col(VisitEvent.id))
        return list(session.exec(query))


def staff(services: Services, code: str) -> Staff:
    with services.db.session() as session:
        return session.exec(select(Staff).where(Staff.code == code)).one()


def messages_to(services: Services, code: str) -> list[Message]:
    sid = staff(services, code).id
    with services.db.session() as session:
        return list(
            session.exec(
                select(Message).where(Message.staff_id == sid, Message.direction == "out").order_by(col(Message.id))
            )
        )


def all_visits(services: Services) -> list[Visit]:
    with services.db.session() as session:
        return list(session.exec(select(Visit).order_by(col(Visit.id))))


def case(services: Services, case_id: int) -> Case:
    with services.db.session() as session:
        found = session.get(Case, case_id)
        assert found is not None
        return found
