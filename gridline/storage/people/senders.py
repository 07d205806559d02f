"""Who wrote a message: the channel identity, the resident or staff member behind it and their
conversation, found in one SELECT for a known sender or created for a new one (``identify``), and a
verified phone number adopting a household record (``link_resident_by_phone``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import and_, bindparam, exists, func
from sqlalchemy import select as sa_select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import make_transient_to_detached
from sqlmodel import Session, col, select

from gridline.i18n import DEFAULT_LANGUAGE, normalise_language
from gridline.storage.models import ChannelIdentity, Conversation, Message, Resident, Staff
from gridline.storage.people.records import (
    active_staff_by_phone,
    find_identity,
    first_resident_with_phone,
    latest_conversation,
)
from gridline.storage.prepared import Prepared
from gridline.storage.rows import loaded_into

PHONE_CHANNELS = ("sms", "voice")
# A conversation is a run of messages with no pause longer than this.
CONVERSATION_PAUSE = timedelta(hours=24)


class SenderFacts(Protocol):
    """What ``identify`` reads of an inbound message (``gridline.kernel.messages.InboundMessage``)."""

    @property
    def channel(self) -> str: ...

    @property
    def external_id(self) -> str: ...

    @property
    def bot_name(self) -> str: ...

    @property
    def display_name(self) -> str | None: ...

    @property
    def chat_id(self) -> str | None: ...

    @property
    def lang(self) -> str | None: ...


@dataclass
class Sender:
    """Who wrote one message: their channel identity, the person behind it, their conversation."""

    identity: ChannelIdentity
    resident: Resident | None
    staff: Staff | None
    conversation: Conversation

    @property
    def lang(self) -> str:
        if self.staff is not None:
            return self.staff.lang
        return self.resident.lang if self.resident else DEFAULT_LANGUAGE


def identify(session: Session, msg: SenderFacts, now: datetime) -> Sender:
    """Find or create the identity, resident (or staff member) and conversation of ``msg``'s sender.

    A known sender costs one SELECT: the identity with its staff member or resident and its latest
    conversation, joined."""
    sender = _identify(session, msg, now, None)
    assert sender is not None
    return sender


def identify_unless_received(
    session: Session, msg: SenderFacts, now: datetime, provider_message_id: str
) -> Sender | None:
    """:func:`identify`, unless an inbound message on ``msg.channel`` with this provider id is in the
    log already (``conversations.already_received``): then None, and nothing is written. Asked in
    the same SELECT as the sender (one round trip for both)."""
    return _identify(session, msg, now, provider_message_id)


def _identify(session: Session, msg: SenderFacts, now: datetime, provider_message_id: str | None) -> Sender | None:
    identity, known_staff, known_resident, latest, received = _identity_with_people(
        session, msg.channel, msg.external_id, msg.bot_name, provider_message_id)
    if received:
        return None
    if identity is None:
        staff_id = resident_id = None
        if msg.channel in PHONE_CHANNELS:
            staff = active_staff_by_phone(session, msg.external_id)
            if staff is not None:
                staff_id = staff.id
            else:
                household = first_resident_with_phone(session, msg.external_id)
                resident_id = household.id if household else None
        identity, created = _new_identity(session, msg.channel, msg.external_id, msg.bot_name, now,
                                          display=msg.display_name, chat_id=msg.chat_id,
                                          staff_id=staff_id, resident_id=resident_id)
        if not created:
            # A second first message of the same sender, processed at the same time, created the
            # identity (and its resident and conversation) first: go on as with a known sender.
            identity, known_staff, known_resident, latest, _ = _identity_with_people(
                session, msg.channel, msg.external_id, msg.bot_name)
            assert identity is not None
    elif msg.chat_id and identity.chat_id != msg.chat_id:
        identity.chat_id = msg.chat_id
    if identity.unreachable:
        identity.unreachable = False  # they wrote to us, so we can write back
    staff = known_staff or (session.get(Staff, identity.staff_id) if identity.staff_id else None)
    resident: Resident | None = None
    if staff is None:
        resident = known_resident or (session.get(Resident, identity.resident_id) if identity.resident_id else None)
        if resident is None:
            resident = Resident(
                name=msg.display_name,
                phone=msg.external_id if msg.channel in PHONE_CHANNELS else None,
                lang=normalise_language(msg.lang) if msg.lang else DEFAULT_LANGUAGE,
                created_at=now,
            )
            session.add(resident)
            session.flush()
            identity.resident_id = resident.id
    conversation = latest if latest is not None else latest_conversation(session, identity.id or 0)
    if conversation is None or conversation.last_message_at < now - CONVERSATION_PAUSE:
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


def new_identity(
    session: Session,
    channel: str,
    external_id: str,
    bot_name: str,
    now: datetime,
    *,
    display: str | None = None,
    chat_id: str | None = None,
) -> ChannelIdentity:
    """A new identity for a person writing to us; on a named Telegram bot it takes over whoever the
    importers recorded for that user id without a bot name (``telegram:<user id>`` in a CSV).

    Race-free: if another transaction created the same identity meanwhile, that one is returned."""
    return _new_identity(session, channel, external_id, bot_name, now, display=display, chat_id=chat_id)[0]


def _new_identity(
    session: Session,
    channel: str,
    external_id: str,
    bot_name: str,
    now: datetime,
    *,
    display: str | None,
    chat_id: str | None,
    staff_id: int | None = None,
    resident_id: int | None = None,
) -> tuple[ChannelIdentity, bool]:
    """:func:`new_identity`, and whether this transaction created it.

    ``INSERT … ON CONFLICT DO NOTHING RETURNING id``, then (only when it did nothing) the SELECT of
    the row that won: two first messages of one sender processed at the same time no longer fail one
    of them on ``uq_identity`` (an ``IntegrityError``, logged and retried). On PostgreSQL the INSERT
    waits for a concurrent insert of the same key to commit (or roll back); on SQLite the writers of
    this process queue for the write lock (``storage.db._SqliteWriter``) and the INSERT's transaction
    starts after the other's commit, so the SELECT after it sees the winner in both."""
    identity = ChannelIdentity(
        channel=channel, external_id=external_id, bot_name=bot_name, display=display, chat_id=chat_id,
        created_at=now, staff_id=staff_id, resident_id=resident_id,
    )
    if channel == "telegram" and bot_name:
        imported = find_identity(session, channel, external_id, "")
        if imported is not None and (imported.staff_id is not None or imported.resident_id is not None):
            identity.staff_id, identity.resident_id = imported.staff_id, imported.resident_id
            identity.display = display or imported.display
    session.flush()  # changes pending in this session go first, as a flush before an ORM INSERT did
    values = {column.key: getattr(identity, column.key) for column in _IDENTITY.columns if column.key != "id"}
    insert = _IDENTITY_INSERT_POSTGRES if session.get_bind().dialect.name == "postgresql" else _IDENTITY_INSERT_SQLITE
    new_id = insert.scalar(session, values)
    if new_id is None:
        winner = find_identity(session, channel, external_id, bot_name)
        assert winner is not None, "ON CONFLICT skipped the insert, so the conflicting row exists"
        return winner, False
    identity.id = new_id
    make_transient_to_detached(identity)  # the row is there: the session tracks it from here (UPDATEs)
    session.add(identity)
    return identity, True


_IDENTITY = ChannelIdentity.__table__  # type: ignore[attr-defined]


def _identity_insert(dialect: Any) -> Any:
    return (dialect.insert(_IDENTITY)
            .on_conflict_do_nothing(index_elements=["channel", "external_id", "bot_name"])
            .returning(_IDENTITY.c.id))


_IDENTITY_INSERT_SQLITE = Prepared(_identity_insert(sqlite), flush=True)
_IDENTITY_INSERT_POSTGRES = Prepared(_identity_insert(postgresql), flush=True)


def _with_people(*, received: bool) -> tuple[Any, list[tuple[type[Any], list[str], slice]]]:
    """The prebuilt SELECT of :func:`_identity_with_people`: every column of the four tables, and
    where each model's columns are in its row; with ``received``, first whether the inbound message
    with the provider id ``:provider_message_id`` on ``:channel`` is stored (always one row then)."""
    tables = [ChannelIdentity, Staff, Resident, Conversation]
    identities, staff, residents, conversations = (model.__table__ for model in tables)  # type: ignore[attr-defined]
    messages = Message.__table__  # type: ignore[attr-defined]
    newest = (
        sa_select(func.max(conversations.c.id))
        .where(conversations.c.identity_id == identities.c.id)
        .correlate(identities)
        .scalar_subquery()
    )
    columns: list[Any] = []
    layout: list[tuple[type[Any], list[str], slice]] = []
    first = 1 if received else 0
    for i, model in enumerate(tables):
        table_columns = list(model.__table__.columns)  # type: ignore[attr-defined]
        start = first + len(columns)
        layout.append((model, [c.key for c in table_columns], slice(start, start + len(table_columns))))
        columns.extend(c.label(f"t{i}_{c.key}") for c in table_columns)
    this_sender = and_(
        identities.c.channel == bindparam("channel"),
        identities.c.external_id == bindparam("external_id"),
        identities.c.bot_name == bindparam("bot_name"),
    )
    people = (
        identities.outerjoin(staff, staff.c.id == identities.c.staff_id)
        .outerjoin(residents, residents.c.id == identities.c.resident_id)
        .outerjoin(conversations, conversations.c.id == newest)
    )
    if not received:
        return sa_select(*columns).select_from(people).where(this_sender).limit(1), layout
    stored = sa_select(
        exists().where(messages.c.channel == bindparam("channel"), messages.c.direction == "in",
                       messages.c.provider_message_id == bindparam("provider_message_id")).label("received")
    ).subquery("received")
    # One row whatever is known: the flag, and the sender's columns (NULL for an unknown sender).
    joined = (
        stored.outerjoin(identities, this_sender)
        .outerjoin(staff, staff.c.id == identities.c.staff_id)
        .outerjoin(residents, residents.c.id == identities.c.resident_id)
        .outerjoin(conversations, conversations.c.id == newest)
    )
    return sa_select(stored.c.received, *columns).select_from(joined).limit(1), layout


_WITH_PEOPLE, _WITH_PEOPLE_LAYOUT = _with_people(received=False)
_RECEIVED_OR_PEOPLE, _RECEIVED_OR_PEOPLE_LAYOUT = _with_people(received=True)
_PREPARED_WITH_PEOPLE, _PREPARED_RECEIVED_OR_PEOPLE = Prepared(_WITH_PEOPLE), Prepared(_RECEIVED_OR_PEOPLE)


def _identity_with_people(
    session: Session, channel: str, external_id: str, bot_name: str, provider_message_id: str | None = None
) -> tuple[ChannelIdentity | None, Staff | None, Resident | None, Conversation | None, bool]:
    """``find_identity`` plus, in the same statement, the identity's staff member, resident and
    latest conversation (each None when there is none); with ``provider_message_id``, last, whether
    that inbound message is stored already (False without it).

    A prebuilt Core SELECT (every message asks it; ``storage.prepared``), its row made into the
    session's objects as an ORM query would (``storage.rows.loaded_into``)."""
    params = {"channel": channel, "external_id": external_id, "bot_name": bot_name}
    if provider_message_id is None:
        row = _PREPARED_WITH_PEOPLE.first(session, params)
        layout, received = _WITH_PEOPLE_LAYOUT, False
    else:
        row = _PREPARED_RECEIVED_OR_PEOPLE.first(session, {**params, "provider_message_id": provider_message_id})
        layout, received = _RECEIVED_OR_PEOPLE_LAYOUT, bool(row[0]) if row is not None else False
    if row is None or received:
        return None, None, None, None, received
    found: list[Any] = []
    for model, keys, where in layout:
        values = dict(zip(keys, row[where], strict=True))
        found.append(loaded_into(session, model, values) if values["id"] is not None else None)
    return found[0], found[1], found[2], found[3], False
