"""The records of residents, staff and their channel identities, found by phone, code, grid or id,
and the one-time staff link codes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from gridline.storage.models import ChannelIdentity, Conversation, Resident, Staff, StaffLinkCode


def named_registered_residents(session: Session, limit: int) -> list[Resident]:
    """Residents with a name and a grid (household records), by id."""
    return list(session.exec(
        select(Resident).where(col(Resident.name).is_not(None), col(Resident.grid_code).is_not(None))
        .order_by(col(Resident.id)).limit(limit)
    ))


def find_identity(session: Session, channel: str, external_id: str, bot_name: str = "") -> ChannelIdentity | None:
    """The identity of ``external_id`` on ``channel`` (and ``bot_name`` for Telegram bots)."""
    return session.exec(
        select(ChannelIdentity).where(
            ChannelIdentity.channel == channel,
            ChannelIdentity.external_id == external_id,
            ChannelIdentity.bot_name == bot_name,
        )
    ).first()


def latest_conversation(session: Session, identity_id: int) -> Conversation | None:
    return session.exec(
        select(Conversation).where(Conversation.identity_id == identity_id).order_by(col(Conversation.id).desc())
    ).first()


def staff_by_code(session: Session, code: str) -> Staff | None:
    return session.exec(select(Staff).where(Staff.code == code)).first()


def link_code(session: Session, code_hash: str) -> StaffLinkCode | None:
    """The one-time staff link code with this keyed hash (the plain code is never stored)."""
    return session.exec(select(StaffLinkCode).where(StaffLinkCode.code_hash == code_hash)).first()


def use_link_code(session: Session, code_id: int, now: datetime) -> bool:
    """Mark the code used; False if someone used it first (a conditional UPDATE: one use wins)."""
    claimed = session.execute(
        update(StaffLinkCode)
        .where(col(StaffLinkCode.id) == code_id, col(StaffLinkCode.used_at).is_(None))
        .values(used_at=now)
    )
    return getattr(claimed, "rowcount", 0) == 1


def active_staff_by_phone(session: Session, phone: str) -> Staff | None:
    return session.exec(select(Staff).where(Staff.phone == phone, Staff.active == True)).first()  # noqa: E712


def first_resident_with_phone(session: Session, phone: str) -> Resident | None:
    """The oldest household record with this number (the one a new identity on it belongs to)."""
    return session.exec(select(Resident).where(Resident.phone == phone).order_by(col(Resident.id))).first()


def opted_out_of_sms(session: Session, phone: str) -> bool:
    """Whether any household record with this number texted 退订/STOP."""
    return (
        session.exec(
            select(Resident.id).where(Resident.phone == phone, Resident.sms_opted_out == True)  # noqa: E712
        ).first()
        is not None
    )


def residents_with_phone(session: Session, phone: str) -> list[Resident]:
    """Every household record with this number."""
    return list(session.exec(select(Resident).where(Resident.phone == phone)))


def grid_leader(session: Session, grid_code: str) -> Staff | None:
    """The grid's leader on record (who answers when the rota names nobody)."""
    return session.exec(select(Staff).where(Staff.grid_code == grid_code, Staff.role == "leader")).first()


def reachable_identities(session: Session, resident_id: int) -> list[ChannelIdentity]:
    """The resident's identities not marked unreachable, newest first."""
    return list(
        session.exec(
            select(ChannelIdentity)
            .where(ChannelIdentity.resident_id == resident_id, ChannelIdentity.unreachable == False)  # noqa: E712
            .order_by(col(ChannelIdentity.id).desc())
        )
    )


def find_telegram_identity(session: Session, user_id: str, bot_name: str) -> ChannelIdentity | None:
    """The identity on this bot, else the one the importers recorded without a bot name."""
    return find_identity(session, "telegram", user_id, bot_name) or find_identity(session, "telegram", user_id, "")


def lang_of(session: Session, identity: ChannelIdentity | None) -> str | None:
    """The stored language of the person behind ``identity`` (staff or resident), if known."""
    person: Staff | Resident | None = None
    if identity is not None and identity.staff_id is not None:
        person = session.get(Staff, identity.staff_id)
    elif identity is not None and identity.resident_id is not None:
        person = session.get(Resident, identity.resident_id)
    return person.lang if person is not None else None


def identities_of_resident(session: Session, resident_id: int) -> list[ChannelIdentity]:
    """Every channel account of the resident."""
    return list(session.exec(select(ChannelIdentity).where(ChannelIdentity.resident_id == resident_id)))


def active_staff_by_code(session: Session, code: str) -> Staff | None:
    """The active staff member with this code."""
    return session.exec(select(Staff).where(Staff.code == code, Staff.active == True)).first()  # noqa: E712


def identity_reaching(session: Session, channel: str, bot_name: str, target: str) -> ChannelIdentity | None:
    """The identity on ``channel`` (and ``bot_name``) whose chat id or external id is ``target``."""
    return session.exec(select(ChannelIdentity).where(
        ChannelIdentity.channel == channel, ChannelIdentity.bot_name == bot_name,
        (col(ChannelIdentity.chat_id) == target) | (col(ChannelIdentity.external_id) == target),
    )).first()
