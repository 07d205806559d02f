"""The outbox: outbound messages stored first, delivered by a job through the channel's notifier."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from gridline.i18n import t
from gridline.kernel.messages import Option
from gridline.kernel.work import Work
from gridline.storage import people
from gridline.storage.models import Case, ChannelIdentity, Message, Resident


def queue_message(
    work: Work,
    *,
    channel: str,
    identity: ChannelIdentity | None,
    text: str,
    lang: str,
    options: tuple[Option, ...] = (),
    case_id: int | None = None,
    resident_id: int | None = None,
    staff_id: int | None = None,
    conversation_id: int | None = None,
    deliver: bool = True,
) -> Message:
    """Store an outbound message; with ``deliver`` it is queued for the channel's notifier."""
    message = Message(
        conversation_id=conversation_id,
        case_id=case_id,
        direction="out",
        channel=channel,
        sender_kind="system",
        resident_id=resident_id,
        staff_id=staff_id,
        identity_id=identity.id if identity else None,
        text=text,
        options=[{"label": o.label, "data": o.data} for o in options],
        lang=lang,
        created_at=work.now,
        status="queued" if deliver else "sent",
    )
    work.session.add(message)
    work.session.flush()
    if deliver:
        work.job("deliver_message", f"msg:{message.id}:0", message_id=message.id)
    return message


def resident_identity(
    session: Session, resident: Resident, prefer_channel: str | None, now: datetime | None = None
) -> ChannelIdentity | None:
    """Where to reach a resident: the case's channel first, then any other; voice callers get SMS."""
    identities = people.reachable_identities(session, resident.id or 0)
    wanted = "sms" if prefer_channel == "voice" else prefer_channel
    for identity in identities:
        if identity.channel == wanted:
            return identity
    if wanted == "sms" and now is not None:
        # A caller known only by voice: text the number they called from.
        for identity in identities:
            if identity.channel == "voice":
                texting = ChannelIdentity(channel="sms", external_id=identity.external_id,
                                          resident_id=resident.id, created_at=now)
                session.add(texting)
                session.flush()
                return texting
    for identity in identities:
        if identity.channel != "voice":
            return identity
    return None


def tell_resident(
    work: Work, case: Case, key: str, *, options: tuple[Option, ...] = (), **params: Any
) -> Message | None:
    """Queue catalogue message ``key`` to the case's resident on their channel; None if unreachable."""
    if case.resident_id is None:
        return None
    resident = work.session.get(Resident, case.resident_id)
    if resident is None:
        return None
    identity = resident_identity(work.session, resident, case.channel, work.now)
    if identity is None:
        return None
    if identity.channel == "sms" and resident.sms_opted_out:
        return None
    text = t(key, resident.lang, ref=case.ref, **params)
    return queue_message(
        work,
        channel=identity.channel,
        identity=identity,
        text=text,
        lang=resident.lang,
        options=options,
        case_id=case.id,
        resident_id=resident.id,
    )
