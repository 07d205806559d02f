"""Pacing of bulk outbound messages: the only module that queries ``pacing_lanes``.

A lane is one sender with a provider limit (a Telegram bot, a Twilio number). Bulk messages get
their send times from the lane when they are queued: ``reserve`` hands out ``count`` times one
interval apart, starting at the lane's next free time (or ``earliest``), and moves the lane on. The
lane's row is locked while it does (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite has one writer and
the ``INSERT`` before it takes the write lock), so reservations in several worker processes never
overlap, and they are as durable as the messages they are written with.

Telegram also allows about one message a second per chat, whatever the bot's total: each chat a bulk
message goes to is a lane too (``chat_lane``: its bulk messages a chat interval apart, whatever their
kind), and ``direct_lane`` keeps when a reply or page to the chat last left (bulk waits after it;
replies and pages never wait).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import bindparam, delete, or_
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from gridline.storage.models import Message, PacingLane
from gridline.storage.prepared import Prepared


class MessageKind(StrEnum):
    """What an outbound message is. Bulk kinds are paced; the others never wait behind them."""

    REPLY = "reply"  # an answer to what a resident or staff member just wrote
    # The answer to a staff member's recognised command (12 接单, 走访 3-2-501 正常, 转办12 …): the
    # outcome of their work, so the SMS cap against robot loops does not count it.
    STAFF_ANSWER = "staff_answer"
    NOTICE = "notice"  # about the resident's own case (acknowledged, resolved, 解决了吗？)
    BROADCAST = "broadcast"  # 通知 to the residents of some grids
    SWEEP = "sweep"  # a sweep question (寒潮, 暴雨 …: 1 平安 2 需要帮助)
    CHECKIN = "checkin"  # a 平安守护 check-in
    VISIT = "visit"  # 走千家 reminders and digests
    # The confirmation of STOP / START: the one text a number that just opted out still gets
    # (the SMS notifier lets it through by this kind, read from the row: no Redis needed).
    OPT_CONFIRMATION = "opt_confirm"


PACED_KINDS = frozenset({MessageKind.BROADCAST, MessageKind.SWEEP, MessageKind.CHECKIN, MessageKind.VISIT})


def is_paced(kind: str) -> bool:
    return kind in PACED_KINDS


def lane_of(channel: str, bot_name: str, sms_number: str, voice_number: str) -> str:
    """The sender a message to ``channel`` leaves by (a voice identity is texted from the SMS number)."""
    if channel == "telegram":
        return f"telegram:{bot_name}"
    if channel in ("sms", "voice"):
        return f"sms:{sms_number}"
    if channel == "call":
        return f"voice:{voice_number}"
    return channel


def lane_channel(lane: str) -> str:
    return lane.split(":", 1)[0]


def chat_lane(bot_name: str, chat: str) -> str:
    """The lane of one Telegram chat's bulk messages."""
    return f"chat:telegram:{bot_name}:{chat}"[:100]


def direct_lane(bot_name: str, chat: str) -> str:
    """Where a Telegram chat's last reply or page is kept (``next_free_at``: a chat interval after it)."""
    return f"direct:telegram:{bot_name}:{chat}"[:100]


BATCH = 500  # lanes a statement (SQLite's bound parameters)


def reserve_each(session: Session, wanted: Sequence[tuple[str, datetime]], interval: float) -> list[datetime]:
    """One send time for each ``(lane, earliest)``, in order: none before its earliest, each lane's
    times ``interval`` seconds apart. The rows of many lanes (one per chat) in a few statements."""
    if not wanted:
        return []
    table = PacingLane.__table__  # type: ignore[attr-defined]
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    lanes = sorted({lane for lane, _ in wanted})  # one lock order for every worker
    start = min(when for _, when in wanted)
    rows: dict[str, PacingLane] = {}
    for i in range(0, len(lanes), BATCH):
        chunk = lanes[i : i + BATCH]
        # Twice at most: a lane the idle-lane purge deleted between the insert and the lock
        # (PostgreSQL) is inserted again, and this transaction's own row cannot be deleted under it.
        for _ in range(2):
            session.execute(
                dialect.insert(table)
                .values([{"lane": lane, "next_free_at": start, "updated_at": start} for lane in chunk])
                .on_conflict_do_nothing(index_elements=["lane"])
            )
            query = (
                select(PacingLane).where(col(PacingLane.lane).in_(chunk)).order_by(col(PacingLane.lane))
                .with_for_update().execution_options(populate_existing=True)
            )  # fmt: skip
            rows.update((row.lane, row) for row in session.exec(query))
            chunk = [lane for lane in chunk if lane not in rows]
            if not chunk:
                break
    step = timedelta(seconds=interval)
    times: list[datetime] = []
    for lane, earliest in wanted:
        row = rows[lane]
        when = max(row.next_free_at, earliest)
        row.next_free_at, row.updated_at = when + step, earliest
        times.append(when)
    session.add_all(rows.values())
    session.flush()
    return times


def mark_direct(session: Session, lane: str, until: datetime) -> None:
    """A reply or page left for the chat of ``lane`` (a ``direct_lane``): its bulk waits until ``until``.
    One prebuilt upsert (``storage.prepared``; every Telegram reply and page records one)."""
    statement = _MARK_DIRECT_POSTGRES if session.get_bind().dialect.name == "postgresql" else _MARK_DIRECT_SQLITE
    statement.run(session, {"b_lane": lane, "b_until": until})


def _mark_direct(dialect: Any) -> Prepared:
    table = PacingLane.__table__  # type: ignore[attr-defined]
    statement = dialect.insert(table).values(lane=bindparam("b_lane"), next_free_at=bindparam("b_until"),
                                             updated_at=bindparam("b_until"))
    upsert = statement.on_conflict_do_update(
        index_elements=["lane"],
        set_={"next_free_at": statement.excluded.next_free_at, "updated_at": bindparam("b_until")})
    return Prepared(upsert, flush=True)


_MARK_DIRECT_SQLITE, _MARK_DIRECT_POSTGRES = _mark_direct(sqlite), _mark_direct(postgresql)


def reserve(session: Session, lane: str, count: int, interval: float, earliest: datetime) -> list[datetime]:
    """``count`` send times in ``lane``, ``interval`` seconds apart, none before ``earliest``."""
    if count <= 0:
        return []
    table = PacingLane.__table__  # type: ignore[attr-defined]
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    session.execute(
        dialect.insert(table)
        .values(lane=lane, next_free_at=earliest, updated_at=earliest)
        .on_conflict_do_nothing(index_elements=["lane"])
    )
    row = session.exec(
        select(PacingLane).where(PacingLane.lane == lane).with_for_update().execution_options(populate_existing=True)
    ).one()
    start = max(row.next_free_at, earliest)
    step = timedelta(seconds=interval)
    times = [start + step * i for i in range(count)]
    row.next_free_at = start + step * count
    row.updated_at = earliest
    session.add(row)
    session.flush()
    return times


def rewind(session: Session, lane: str, interval: float, now: datetime) -> None:
    """After messages in ``lane`` were cancelled: the lane is next free after the last one still queued."""
    row = session.exec(select(PacingLane).where(PacingLane.lane == lane).with_for_update()).first()
    if row is None:
        return
    last = session.exec(
        select(Message.next_attempt_at)
        .where(Message.lane == lane, Message.status == "queued", col(Message.next_attempt_at).is_not(None))
        .order_by(col(Message.next_attempt_at).desc())
        .limit(1)
    ).first()
    row.next_free_at = max(now, last + timedelta(seconds=interval)) if last is not None else now
    row.updated_at = now
    session.add(row)


CHAT_LANE_PREFIXES = ("chat:", "direct:")


def purge_idle_chat_lanes(session: Session, idle_since: datetime) -> int:
    """Delete the per-chat lanes (``chat_lane``, ``direct_lane``) neither used nor free later than
    ``idle_since``: a lane whose next free time is still ahead is never deleted. Sender lanes stay.

    A missing lane behaves as one free now (``reserve_each`` and ``mark_direct`` insert it again), so
    this changes no send time. Returns how many lanes were deleted."""
    statement = delete(PacingLane).where(
        or_(*(col(PacingLane.lane).startswith(prefix) for prefix in CHAT_LANE_PREFIXES)),
        col(PacingLane.next_free_at) < idle_since,
        col(PacingLane.updated_at) < idle_since,
    )
    return int(session.execute(statement).rowcount or 0)  # type: ignore[attr-defined]


def next_free(session: Session, lane: str) -> datetime | None:
    row = session.get(PacingLane, lane)
    return row.next_free_at if row is not None else None
