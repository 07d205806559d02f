"""Small readers of Gridline's database for Telegram tests."""

from __future__ import annotations

from sqlmodel import col, select

from gridline.kernel.services import Services
from gridline.storage.models import Case, ChannelIdentity, ContactMethod, InboundEvent, Message, Page, Resident, Staff


def staff(services: Services, code: str) -> Staff:
    with services.db.session() as session:
        return session.exec(select(Staff).where(Staff.code == code)).one()


def cases(services: Services) -> list[Case]:
    with services.db.session() as session:
        return list(session.exec(select(Case).order_by(col(Case.id))))


def only_case(services: Services) -> Case:
    found = cases(services)
    assert len(found) == 1, f"expected one case, found {[c.ref for c in found]}"
    return found[0]


def pages(services: Services) -> list[Page]:
    with services.db.session() as session:
        return list(session.exec(select(Page).order_by(col(Page.id))))


def inbound_events(services: Services) -> list[InboundEvent]:
    with services.db.session() as session:
        return list(session.exec(select(InboundEvent)))


def resident_of(services: Services, user_id: int, bot_name: str) -> Resident | None:
    with services.db.session() as session:
        identity = session.exec(
            select(ChannelIdentity).where(
                ChannelIdentity.channel == "telegram",
                ChannelIdentity.external_id == str(user_id),
                ChannelIdentity.bot_name == bot_name,
            )
        ).first()
        if identity is None or identity.resident_id is None:
            return None
        return session.get(Resident, identity.resident_id)


def identity_of(services: Services, user_id: int, bot_name: str) -> ChannelIdentity | None:
    with services.db.session() as session:
        return session.exec(
            select(ChannelIdentity).where(
                ChannelIdentity.channel == "telegram",
                ChannelIdentity.external_id == str(user_id),
                ChannelIdentity.bot_name == bot_name,
            )
        ).first()


def contact_methods(services: Services, staff_id: int | None) -> list[ContactMethod]:
    with services.db.session() as session:
        return list(
            session.exec(
                select(ContactMethod).where(ContactMethod.staff_id == staff_id).order_by(col(ContactMethod.position))
            )
        )


def inbound_messages(services: Services) -> list[Message]:
    with services.db.session() as session:
        return list(session.exec(select(Message).where(Message.direction == "in").order_by(col(Message.id))))


def prefer_telegram(services: Services, staff_code: str) -> None:
    """Arrange: make Telegram the person's first channel (as an administrator could)."""
    person = staff(services, staff_code)
    with services.db.session() as session:
        methods = session.exec(select(ContactMethod).where(ContactMethod.staff_id == person.id)).all()
        for method in methods:
            method.position = -1 if method.channel == "telegram" else method.position + 1
            session.add(method)
