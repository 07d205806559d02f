"""Conversations and their messages, in and out: the conversation log.

The only module that queries ``messages`` for the conversation side (what was said, what was
offered); delivery's claims on outbound rows live with the outbox. Functions take the session of
the unit of work they run in.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import Exists, bindparam, exists, func
from sqlalchemy import select as sa_select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from gridline.storage.models import Case, Conversation, Message, NluCorrection, Resident


def latest_options(session: Session, identity_id: int) -> list[str]:
    """The choices offered in our last message to this identity (the database remembers if Redis forgot)."""
    last = session.exec(
        select(Message)
        .where(Message.identity_id == identity_id, Message.direction == "out")
        .order_by(col(Message.id).desc())
        .limit(1)
    ).first()
    return [o["data"] for o in last.options] if last is not None and last.options else []


_MESSAGES = Message.__table__  # type: ignore[attr-defined]
_RECEIVED = (
    sa_select(_MESSAGES.c.id)
    .where(_MESSAGES.c.channel == bindparam("channel"), _MESSAGES.c.direction == "in",
           _MESSAGES.c.provider_message_id == bindparam("provider_message_id"))
    .limit(1)
)


def already_received(session: Session, channel: str, provider_message_id: str) -> bool:
    """Whether an inbound message with this provider id is in the log already (a prebuilt Core
    SELECT: every message processed asks it)."""
    found = session.connection().execute(
        _RECEIVED, {"channel": channel, "provider_message_id": provider_message_id}).first()
    return found is not None


def of_identity(session: Session, identity_id: int, channel: str) -> list[Message]:
    """Every message in and out of this identity on ``channel``, oldest first."""
    return list(session.exec(
        select(Message).where(Message.identity_id == identity_id, Message.channel == channel)
        .order_by(col(Message.created_at), col(Message.id))
    ))


def of_case(session: Session, case_id: int) -> list[Message]:
    """Every message about the case, in and out, oldest first."""
    return list(session.exec(
        select(Message).where(Message.case_id == case_id).order_by(col(Message.created_at), col(Message.id))
    ))


def messages_of_cases(session: Session, case_ids: Collection[int], *, scope: ColumnElement[bool]) -> list[Message]:
    """The messages of these cases that ``scope`` (a WHERE clause on ``Message``) lets through, in order."""
    return list(
        session.exec(
            select(Message)
            .where(col(Message.case_id).in_(list(case_ids)), scope)
            .order_by(col(Message.created_at), col(Message.id))
        )
    )


def latest_corrections(session: Session, message_ids: Collection[int]) -> dict[int, NluCorrection]:
    """The newest NLU correction of each of these messages."""
    if not message_ids:
        return {}
    corrections: dict[int, NluCorrection] = {}
    for corr in session.exec(
        select(NluCorrection)
        .where(col(NluCorrection.message_id).in_(list(message_ids)))
        .order_by(col(NluCorrection.created_at))
    ):
        corrections[corr.message_id] = corr  # the latest wins
    return corrections


def messages_of_conversation(session: Session, conversation_id: int, *, scope: ColumnElement[bool]) -> list[Message]:
    """The conversation's messages that ``scope`` (a WHERE clause on ``Message``) lets through, in order."""
    return list(
        session.exec(
            select(Message)
            .where(Message.conversation_id == conversation_id, scope)
            .order_by(col(Message.created_at), col(Message.id))
        )
    )


def conversation_summary(
    session: Session, conversation_id: int, *, scope: ColumnElement[bool]
) -> tuple[int, Message | None, list[tuple[int, str]]]:
    """For a list row: how many messages ``scope`` lets through, the newest of them, and the
    (id, ref) of the cases they belong to."""
    count = session.exec(
        select(func.count()).select_from(Message).where(Message.conversation_id == conversation_id, scope)
    ).one()
    last = session.exec(
        select(Message)
        .where(Message.conversation_id == conversation_id, scope)
        .order_by(col(Message.created_at).desc(), col(Message.id).desc())
        .limit(1)
    ).first()
    refs = session.exec(
        select(Case.id, Case.ref)
        .where(col(Case.id).in_(select(Message.case_id).where(Message.conversation_id == conversation_id, scope)))
        .order_by(col(Case.id))
    ).all()
    return count, last, [(cid, ref) for cid, ref in refs if cid is not None]


def visible_message(session: Session, message_id: int, *, scope: ColumnElement[bool]) -> Message | None:
    """The message, if ``scope`` lets it through."""
    return session.exec(select(Message).where(Message.id == message_id, scope)).first()


def resident_has_message(session: Session, resident_id: int, *, scope: ColumnElement[bool]) -> bool:
    """Whether some message of the resident passes ``scope``."""
    found = session.exec(select(Message.id).where(Message.resident_id == resident_id, scope).limit(1)).first()
    return found is not None


def unexported_correction(session: Session, message_id: int) -> NluCorrection | None:
    """The message's NLU correction that has not been exported yet, if any."""
    return session.exec(
        select(NluCorrection).where(NluCorrection.message_id == message_id, col(NluCorrection.exported_at).is_(None))
    ).first()


def unexported_corrections(session: Session) -> list[NluCorrection]:
    """Every NLU correction not exported yet, in the order they were first made."""
    return list(
        session.exec(select(NluCorrection).where(col(NluCorrection.exported_at).is_(None)).order_by(col(NluCorrection.id)))
    )


def page_of_conversations(
    session: Session,
    *,
    scope: ColumnElement[bool],
    only_visible: bool,
    channel: str = "",
    grid_codes: Collection[str] = (),
    active_from: datetime | None = None,
    started_before: datetime | None = None,
    confidence_below: float | None = None,
    without_case: bool = False,
    text_like: str = "",
    page: int,
    page_size: int,
) -> tuple[list[Conversation], int, int, int]:
    """One page of conversations: (conversations, total, the page shown — the last one when ``page``
    is past it —, number of pages).

    ``scope`` is a WHERE clause on ``Message`` (what the viewer may read); with ``only_visible``
    only conversations holding such a message are listed. Narrowed to a channel, to residents of
    ``grid_codes``, to those active since ``active_from`` and started before ``started_before``, to
    those with a resident message less confident than ``confidence_below`` (then the least
    confident first: the corrections queue), to those without a case, and to those with a visible
    message matching the LIKE pattern ``text_like`` (escaped with ``\\``). Newest first otherwise.
    """

    def has_message(*conditions: ColumnElement[bool]) -> Exists:
        return exists(select(Message.id).where(Message.conversation_id == Conversation.id, scope, *conditions))

    stmt = select(Conversation)
    if only_visible:
        stmt = stmt.where(has_message())
    if channel:
        stmt = stmt.where(Conversation.channel == channel)
    if grid_codes:
        stmt = stmt.where(
            col(Conversation.resident_id).in_(select(Resident.id).where(col(Resident.grid_code).in_(list(grid_codes))))
        )
    if active_from is not None:
        stmt = stmt.where(col(Conversation.last_message_at) >= active_from)
    if started_before is not None:
        stmt = stmt.where(col(Conversation.started_at) < started_before)
    # A message a supervisor has corrected is done: it neither keeps a conversation in the corrections
    # queue nor orders it there.
    uncorrected = ~exists(select(NluCorrection.id).where(NluCorrection.message_id == Message.id))
    if confidence_below is not None:
        stmt = stmt.where(
            has_message(col(Message.direction) == "in", col(Message.confidence) < confidence_below, uncorrected)
        )
    if without_case:
        stmt = stmt.where(~exists(select(Message.id).where(
            Message.conversation_id == Conversation.id, col(Message.case_id).is_not(None))))
    if text_like:
        stmt = stmt.where(has_message(col(Message.text).ilike(text_like, escape="\\")))
    total = session.exec(select(func.count()).select_from(stmt.subquery())).one()
    pages = max(1, (total + page_size - 1) // page_size)
    page = min(page, pages)
    newest_first = (col(Conversation.last_message_at).desc(), col(Conversation.id).desc())
    if confidence_below is not None:
        # The corrections queue: the least confident resident message first, so a supervisor's time
        # goes where the NLU was least sure (and a correction teaches it most).
        least_confident = (
            select(func.min(Message.confidence))
            .where(Message.conversation_id == Conversation.id, scope, col(Message.direction) == "in", uncorrected)
            .scalar_subquery()
        )
        order: tuple[Any, ...] = (least_confident.asc(), *newest_first)
    else:
        order = newest_first
    found = list(session.exec(stmt.order_by(*order).offset((page - 1) * page_size).limit(page_size)))
    return found, total, page, pages
