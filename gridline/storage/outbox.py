"""Outgoing messages (``messages`` with direction ``out``): claims and provider lookups for delivery.

Like pages, a message is claimed (queued → sending) by one conditional UPDATE.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import bindparam, func, insert, or_, update
from sqlalchemy.orm.util import identity_key
from sqlmodel import Session, col, select

from gridline.domain.lifecycle import MESSAGE, MessageStatus
from gridline.storage.bulk import chunks
from gridline.storage.models import Case, ChannelIdentity, Message
from gridline.storage.prepared import Prepared


def get(session: Session, message_id: int) -> Message | None:
    return session.get(Message, message_id)


_TABLE = Message.__table__  # type: ignore[attr-defined]


class ClaimedMessage(NamedTuple):
    """What sending a claimed message needs of its row (``claim_for_sending``)."""

    id: int
    case_id: int | None
    identity_id: int | None
    channel: str
    kind: str
    text: str | None
    text_key: str | None
    text_params: dict[str, Any] | None
    options: list[dict[str, Any]]
    lang: str
    attempts: int
    next_attempt_at: datetime | None
    error: str | None
    created_at: datetime


_CLAIMED_COLUMNS = tuple(getattr(_TABLE.c, name) for name in ClaimedMessage._fields)
# The reply's hot statements (claim, identity, case reference, record), prebuilt and run straight on
# the driver (``storage.prepared``); ``flush=True``: as the ``Session.execute`` they replace.
_CLAIM = Prepared(
    update(_TABLE)
    .where(_TABLE.c.id == bindparam("message_id"),
           _TABLE.c.status == MESSAGE.guard(MessageStatus.QUEUED, MessageStatus.SENDING),
           or_(_TABLE.c.next_attempt_at.is_(None), _TABLE.c.next_attempt_at <= bindparam("now")))
    .values(status=MessageStatus.SENDING.value, claimed_at=bindparam("now"))
    .returning(*_CLAIMED_COLUMNS),
    flush=True,
)


def claim_for_sending(session: Session, message_id: int, *, now: datetime) -> ClaimedMessage | None:
    """The message, claimed (queued → sending); None when it is not queued or not due yet. One
    ``UPDATE … RETURNING`` of the columns a send needs (Core: no ORM object; a caller that changes
    the row reads it with ``get``)."""
    rows = _CLAIM.rows(session, {"message_id": message_id, "now": now})
    return ClaimedMessage(*rows[0]) if len(rows) == 1 else None


class IdentityFacts(NamedTuple):
    """Where a message goes (``identity``)."""

    id: int
    channel: str
    external_id: str
    bot_name: str
    chat_id: str | None


_IDENTITIES = ChannelIdentity.__table__  # type: ignore[attr-defined]
_IDENTITY = Prepared(
    select(*(getattr(_IDENTITIES.c, name) for name in IdentityFacts._fields))
    .where(_IDENTITIES.c.id == bindparam("identity_id")),
    flush=True,
)


def identity(session: Session, identity_id: int) -> IdentityFacts | None:
    """The columns of a channel identity a send needs (one narrow SELECT, no ORM object)."""
    row = _IDENTITY.first(session, {"identity_id": identity_id})
    return IdentityFacts(*row) if row is not None else None


_SENT: dict[str, Prepared] = {}


def record_sent(session: Session, message_id: int, *, state: str, error: str | None,
                provider_message_id: str | None) -> bool:
    """The provider took the message (``state`` sent or delivered) while it is still ``sending`` and
    not part of a broadcast: its attempt, error, provider id and status in one conditional UPDATE,
    without reading the row first. False otherwise (the caller then reads it and decides)."""
    wanted = MessageStatus(state)
    statement = _SENT.get(wanted.value)
    if statement is None:
        statement = _SENT[wanted.value] = Prepared(
            update(_TABLE)
            .where(_TABLE.c.id == bindparam("message_id"),
                   _TABLE.c.status == MESSAGE.guard(MessageStatus.SENDING, wanted),
                   _TABLE.c.broadcast_id.is_(None))
            .values(status=wanted.value, attempts=_TABLE.c.attempts + 1, error=bindparam("error"),
                    provider_message_id=func.coalesce(bindparam("provider_message_id"), _TABLE.c.provider_message_id)),
            flush=True,
        )
    return bool(statement.run(session, {"message_id": message_id, "error": error,
                                        "provider_message_id": provider_message_id}))


def case_ref(session: Session, case_id: int) -> str | None:
    """The reference of the case a message is about (its notice names it): one column, not the case."""
    ref = _CASE_REF.scalar(session, {"case_id": case_id})
    return str(ref) if ref is not None else None


def case_ref_known(session: Session, case_id: int) -> str | None:
    """:func:`case_ref`, from the session's own copy of the case when this transaction has one (it
    filed or read it): no SELECT then."""
    case = session.identity_map.get(identity_key(Case, case_id))
    return case.ref if isinstance(case, Case) else case_ref(session, case_id)


_CASES = Case.__table__  # type: ignore[attr-defined]
_CASE_REF = Prepared(select(_CASES.c.ref).where(_CASES.c.id == bindparam("case_id")), flush=True)


def by_provider_message_id(session: Session, provider_message_id: str) -> Message | None:
    """The outgoing message a provider knows as ``provider_message_id``."""
    return session.exec(
        select(Message).where(Message.provider_message_id == provider_message_id, Message.direction == "out")
    ).first()


def last_to_resident(session: Session, resident_id: int, channel: str) -> tuple[int | None, str | None] | None:
    """The case and catalogue key of the newest message to a resident on ``channel``, if any."""
    row = session.exec(
        select(Message.case_id, Message.text_key)
        .where(Message.resident_id == resident_id, Message.channel == channel, Message.direction == "out")
        .order_by(col(Message.created_at).desc(), col(Message.id).desc())
        .limit(1)
    ).first()
    return (row[0], row[1]) if row is not None else None


def release_lapsed_sends(session: Session, *, claimed_before: datetime, error: str) -> int:
    """Outgoing messages whose send claim lapsed go back to queued, marked with ``error``; how many."""
    released = session.execute(
        update(Message)
        .where(
            col(Message.status) == MESSAGE.guard(MessageStatus.SENDING, MessageStatus.QUEUED),
            col(Message.claimed_at) < claimed_before,
        )
        .values(status=MessageStatus.QUEUED.value, error=error)
    ).rowcount  # type: ignore[attr-defined]
    return int(released or 0)


def due_for_sending(session: Session, *, horizon: datetime, limit: int) -> list[tuple[int, int]]:
    """(message id, attempts) of queued messages due by ``horizon`` (created by then, no retry waiting after it)."""
    rows = session.exec(
        select(Message.id, Message.attempts)
        .where(
            Message.status == "queued",
            or_(col(Message.next_attempt_at).is_(None), col(Message.next_attempt_at) <= horizon),
            col(Message.created_at) <= horizon,
        )
        .limit(limit)
    ).all()
    return [(message_id or 0, attempts) for message_id, attempts in rows]


def insert_many(session: Session, rows: list[dict[str, Any]]) -> list[int]:
    """Insert outgoing messages (complete column values) in batches; their ids, in order.

    Paced rows are unique by (lane, identity, send time) — a lane's send times differ, and so do a
    Telegram chat's — which maps the returned ids back to the rows: asking SQLite for the
    parameters' order instead costs one statement per row. Rows that are not unique so are
    inserted in the parameters' order."""
    if not rows:
        return []
    table = Message.__table__  # type: ignore[attr-defined]  # Core, not the ORM's slower bulk path
    keys = [(row.get("lane"), row.get("identity_id"), row.get("next_attempt_at")) for row in rows]
    if len(set(keys)) != len(keys):
        result = session.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), rows)
        return [int(row[0]) for row in result]
    returning = insert(table).returning(table.c.id, table.c.lane, table.c.identity_id, table.c.next_attempt_at)
    ids: dict[tuple[Any, Any, Any], int] = {}
    for batch in chunks(rows, 1000):
        for message_id, lane, identity_id, when in session.execute(returning, list(batch)):
            ids[(lane, identity_id, when)] = int(message_id)
    return [ids[key] for key in keys]
