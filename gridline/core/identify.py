"""Who is writing: a channel identity, and the resident or staff member behind it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from gridline.core.messages import InboundMessage
from gridline.i18n import normalise_language
from gridline.storage.models import ChannelIdentity, Conversation, Resident, Staff

PHONE_CHANNELS = ("sms", "voice")


@dataclass
class Sender:
    identity: ChannelIdentity
    resident: Resident | None
    staff: Staff | None
    conversation: Conversation

    @property
    def lang(self) -> str:
        if self.staff is not None:
            return self.staff.lang
        return self.resident.lang if self.resident else "zh-CN"


def _staff_by_phone(session: Session, phone: str) -> Staff | None:
    return session.exec(select(Staff).where(Staff.phone == phone, Staff.active == True)).first()  # noqa: E712


def identify(session: Session, msg: InboundMessage, now: object) -> Sender:
    """Find or create the identity, resident (or staff member) and conversation of ``msg``'s sender."""
    assert isinstance(now, datetime)
    identity = session.exec(
        select(ChannelIdentity).where(
            ChannelIdentity.channel == msg.channel,
            ChannelIdentity.external_id == msg.external_id,
            ChannelIdentity.bot_name == msg.bot_name,
        )
    ).first()
    if identity is None:
        identity = ChannelIdentity(
            channel=msg.channel,
            external_id=msg.external_id,
            bot_name=msg.bot_name,
            display=msg.display_name,
            chat_id=msg.chat_id,
            created_at=now,
        )
        if msg.channel in PHONE_CHANNELS:
            staff = _staff_by_phone(session, msg.external_id)
            if staff is not None:
                identity.staff_id = staff.id
            else:
                household = session.exec(
                    select(Resident).where(Resident.phone == msg.external_id).order_by(col(Resident.id))
                ).first()
                identity.resident_id = household.id if household else None
        session.add(identity)
        session.flush()
    elif msg.chat_id and identity.chat_id != msg.chat_id:
        identity.chat_id = msg.chat_id
    if identity.unreachable:
        identity.unreachable = False  # they wrote to us, so we can write back
    staff = session.get(Staff, identity.staff_id) if identity.staff_id else None
    resident: Resident | None = None
    if staff is None:
        resident = session.get(Resident, identity.resident_id) if identity.resident_id else None
        if resident is None:
            resident = Resident(
                name=msg.display_name,
                phone=msg.external_id if msg.channel in PHONE_CHANNELS else None,
                lang=normalise_language(msg.lang) if msg.lang else "zh-CN",
                created_at=now,
            )
            session.add(resident)
            session.flush()
            identity.resident_id = resident.id
    conversation = session.exec(
        select(Conversation).where(Conversation.identity_id == identity.id).order_by(col(Conversation.id).desc())
    ).first()
    if conversation is None or conversation.last_message_at < now - timedelta(hours=24):
        conversation = Conversation(
            channel=msg.channel,
            identity_id=identity.id,
            resident_id=resident.id if resident else None,
            staff_id=staff.id if staff else None,
            started_at=now,
            last_message_at=now,
        )
        session.add(conversation)
        session.flush()
    conversation.last_message_at = now
    return Sender(identity=identity, resident=resident, staff=staff, conversation=conversation)


def link_resident_by_phone(session: Session, sender: Sender, phone: str) -> Resident | None:
    """A verified phone number (Telegram contact of the sender): adopt a known household record."""
    if sender.resident is None:
        return None
    known = session.exec(
        select(Resident).where(Resident.phone == phone, Resident.id != sender.resident.id).order_by(col(Resident.id))
    ).first()
    if known is not None and known.grid_code:
        sender.identity.resident_id = known.id
        sender.conversation.resident_id = known.id
        sender.resident = known
        return known
    sender.resident.phone = phone
    return sender.resident
