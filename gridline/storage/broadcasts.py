"""The broadcasts' store: the only module that queries ``broadcasts`` and counts their messages."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from gridline.domain.lifecycle import MESSAGE, MessageStatus
from gridline.storage.models import Broadcast, Case, ChannelIdentity, Household, HouseholdPerson, Message, Resident

# Channels a broadcast reaches residents on (the web sandbox is not a channel residents live on).
BROADCAST_CHANNELS = ("telegram", "sms", "voice")


def get(session: Session, broadcast_id: int) -> Broadcast | None:
    return session.get(Broadcast, broadcast_id)


def listing(session: Session, grid_codes: frozenset[str] | None, limit: int = 50) -> list[Broadcast]:
    """The newest broadcasts; with ``grid_codes``, only those whose grids all lie within them."""
    rows = list(session.exec(select(Broadcast).order_by(col(Broadcast.id).desc()).limit(limit * 4)))
    if grid_codes is not None:
        rows = [b for b in rows if set(b.grid_codes) <= grid_codes]
    return rows[:limit]


def residents_in(session: Session, grid_codes: Collection[str]) -> list[Resident]:
    """Registered residents of the grids, by id."""
    return list(
        session.exec(select(Resident).where(col(Resident.grid_code).in_(sorted(grid_codes))).order_by(col(Resident.id)))
    )


def identities_of(session: Session, resident_ids: Collection[int]) -> list[ChannelIdentity]:
    """The reachable identities of these residents on broadcast channels, newest first."""
    if not resident_ids:
        return []
    return list(
        session.exec(
            select(ChannelIdentity)
            .where(
                col(ChannelIdentity.resident_id).in_(sorted(resident_ids)),
                ChannelIdentity.unreachable == False,  # noqa: E712
                col(ChannelIdentity.channel).in_(BROADCAST_CHANNELS),
            )
            .order_by(col(ChannelIdentity.id).desc())
        )
    )


def consenting_members(session: Session, grid_codes: Collection[str]) -> list[tuple[HouseholdPerson, Household]]:
    """Household members (not family elsewhere) with a phone, of households that consented to be
    contacted (``consent_checkin``) and are still on the roster."""
    return list(
        session.exec(
            select(HouseholdPerson, Household)
            .join(Household, col(Household.id) == col(HouseholdPerson.household_id))
            .where(
                col(Household.grid_code).in_(sorted(grid_codes)),
                col(Household.removed_at).is_(None),
                Household.consent_checkin == True,  # noqa: E712
                HouseholdPerson.kind == "member",
                col(HouseholdPerson.phone).is_not(None),
                col(HouseholdPerson.removed_at).is_(None),
            )
            .order_by(col(Household.id), col(HouseholdPerson.position))
        )
    )


def residents_by_phone(session: Session, phones: Collection[str]) -> list[Resident]:
    if not phones:
        return []
    return list(session.exec(select(Resident).where(col(Resident.phone).in_(sorted(phones)))))


def sms_identities(session: Session, phones: Collection[str]) -> list[ChannelIdentity]:
    if not phones:
        return []
    return list(
        session.exec(
            select(ChannelIdentity).where(
                ChannelIdentity.channel == "sms", col(ChannelIdentity.external_id).in_(sorted(phones)),
                ChannelIdentity.bot_name == "",
            )
        )
    )


def status_counts(session: Session, broadcast_id: int) -> dict[str, int]:
    """How many of the broadcast's messages are in each delivery status."""
    rows = session.exec(
        select(Message.status, func.count()).where(Message.broadcast_id == broadcast_id).group_by(col(Message.status))
    ).all()
    return {status: int(n) for status, n in rows}


def unfinished(session: Session, broadcast_id: int) -> int:
    """Messages of the broadcast still waiting or being sent."""
    return int(
        session.exec(
            select(func.count())
            .select_from(Message)
            .where(Message.broadcast_id == broadcast_id, col(Message.status).in_(("queued", "sending")))
        ).one()
    )


def recipient_ids(session: Session, broadcast_id: int) -> list[int]:
    return [
        rid
        for rid in session.exec(
            select(Message.resident_id).where(Message.broadcast_id == broadcast_id).distinct()
        ).all()
        if rid is not None
    ]


def replies(session: Session, broadcast_id: int, since: datetime, until: datetime) -> tuple[int, int]:
    """(recipients who wrote back, recipients who opened a case) between ``since`` and ``until``."""
    ids = recipient_ids(session, broadcast_id)
    if not ids:
        return 0, 0
    wrote = session.exec(
        select(func.count(func.distinct(Message.resident_id))).where(
            col(Message.resident_id).in_(ids), Message.direction == "in",
            col(Message.created_at) >= since, col(Message.created_at) < until,
        )
    ).one()
    reported = session.exec(
        select(func.count(func.distinct(Case.resident_id))).where(
            col(Case.resident_id).in_(ids), col(Case.created_at) >= since, col(Case.created_at) < until,
        )
    ).one()
    return int(wrote), int(reported)


def cancel_queued(session: Session, broadcast_id: int, now: datetime) -> tuple[int, set[str]]:
    """Cancel the broadcast's messages not yet claimed; returns how many and their lanes."""
    lanes = {
        lane
        for lane in session.exec(
            select(Message.lane).where(Message.broadcast_id == broadcast_id, Message.status == "queued").distinct()
        ).all()
        if lane
    }
    cancelled = session.execute(
        update(Message)
        .where(
            col(Message.broadcast_id) == broadcast_id,
            col(Message.status) == MESSAGE.guard(MessageStatus.QUEUED, MessageStatus.CANCELLED),
        )
        .values(status=MessageStatus.CANCELLED.value, error="broadcast cancelled", claimed_at=now)
    ).rowcount  # type: ignore[attr-defined]
    return int(cancelled), lanes
