"""Inbound events (the durable inbox): stored once, claimed by one worker, finished or retried.

The only module that queries ``inbound_events`` for the webhooks and the processors; every function
runs inside a unit of work (``gridline.kernel.work.in_transaction``) and takes its session.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, or_, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from gridline.domain.lifecycle import INBOUND, InboundStatus
from gridline.storage.models import InboundEvent
from gridline.storage.rows import loaded
from gridline.storage.types import UTCDateTime

Arrival = tuple[str, str, dict[str, Any]]  # (provider, event_key, payload)


def store_once(session: Session, arrivals: list[Arrival], now: datetime) -> list[tuple[InboundEvent, bool]]:
    """Store each arriving event unless its ``(provider, event_key)`` is there already; for each, in
    order, ``(event, True)`` when it is new or ``(the stored event, False)`` for a repeat (also a
    repeat within ``arrivals``).

    One ``INSERT … VALUES (…), (…) ON CONFLICT DO NOTHING RETURNING`` for all of them (SQLAlchemy's
    "insertmanyvalues": one statement, compiled once and cached whatever the batch size): a repeat
    costs no exception and no rolled-back transaction, a new event no ORM flush. On PostgreSQL a
    concurrent insert of the same key waits for the other transaction, then does nothing, and
    ``find`` sees it.
    """
    rows = _rows(arrivals, now)
    statement = _INSERT_POSTGRES if session.get_bind().dialect.name == "postgresql" else _INSERT_SQLITE
    new = {(provider, key): event_id for event_id, provider, key in session.execute(statement, list(rows.values()))}
    return _answers(arrivals, rows, new, lambda provider, key: find(session, provider, key))


def _insert(dialect: Any) -> Any:
    table_ = InboundEvent.__table__  # type: ignore[attr-defined]
    return (dialect.insert(table_).on_conflict_do_nothing(index_elements=["provider", "event_key"])
            .returning(table_.c.id, table_.c.provider, table_.c.event_key))


_INSERT_SQLITE, _INSERT_POSTGRES = _insert(sqlite), _insert(postgresql)

# PostgreSQL: the batch as arrays, so the statement's text is the same for any batch size (psycopg
# prepares it after a few runs), and the ``process_inbound`` job of each new row in the same statement.
_STORE_QUEUED = text(
    """
    WITH stored AS (
        INSERT INTO inbound_events (provider, event_key, payload, received_at, status, attempts)
        SELECT a.provider, a.event_key, CAST(a.payload AS json), :received_at, 'received', 0
        FROM unnest(CAST(:providers AS text[]), CAST(:event_keys AS text[]), CAST(:payloads AS text[]))
             AS a(provider, event_key, payload)
        ON CONFLICT (provider, event_key) DO NOTHING
        RETURNING id, provider, event_key
    ), queued AS (
        INSERT INTO procrastinate_jobs (queue_name, task_name, queueing_lock, args, scheduled_at)
        SELECT :queue, :task, 'inbound:' || stored.id, jsonb_build_object('event_id', stored.id), NULL
        FROM stored
        ON CONFLICT DO NOTHING
    )
    SELECT id, provider, event_key FROM stored
    """
).bindparams(bindparam("received_at", type_=UTCDateTime))


def store_once_queued(engine: Engine, arrivals: list[Arrival], now: datetime, queue: str,
                      task: str = "process_inbound") -> list[tuple[InboundEvent, bool]]:
    """PostgreSQL: :func:`store_once` plus a ``task`` job (procrastinate's ``procrastinate_jobs``; key
    ``inbound:<id>``, args ``{"event_id": id}``) for each new event, in ONE autocommitted statement.

    As atomic as a transaction holding both INSERTs (one statement commits or fails whole), and
    durable when it returns, but one round trip to the server instead of four (BEGIN, the inbox
    INSERT, the job INSERT, COMMIT): the whole of a webhook's cost in the database.
    """
    rows = _rows(arrivals, now)
    params = {"received_at": now, "queue": queue, "task": task,
              "providers": [row["provider"] for row in rows.values()],
              "event_keys": [row["event_key"] for row in rows.values()],
              "payloads": [json.dumps(row["payload"]) for row in rows.values()]}
    with engine.connect() as connection:
        connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        new = {(provider, key): event_id for event_id, provider, key in connection.execute(_STORE_QUEUED, params)}
        table_ = InboundEvent.__table__  # type: ignore[attr-defined]

        def found(provider: str, key: str) -> InboundEvent | None:
            row = connection.execute(
                select(table_).where(table_.c.provider == provider, table_.c.event_key == key)
            ).mappings().first()
            return InboundEvent(**row) if row is not None else None

        return _answers(arrivals, rows, new, found)


def _rows(arrivals: list[Arrival], now: datetime) -> dict[tuple[str, str], dict[str, Any]]:
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for provider, event_key, payload in arrivals:
        rows.setdefault((provider, event_key), {"provider": provider, "event_key": event_key, "payload": payload,
                                                "received_at": now, "status": "received", "attempts": 0})
    return rows


def _answers(
    arrivals: list[Arrival], rows: dict[tuple[str, str], dict[str, Any]], new: dict[tuple[str, str], int],
    find: Any,
) -> list[tuple[InboundEvent, bool]]:
    out: list[tuple[InboundEvent, bool]] = []
    told_new: set[tuple[str, str]] = set()
    stored: dict[tuple[str, str], InboundEvent] = {}
    for provider, event_key, _ in arrivals:
        key = (provider, event_key)
        if key in new and key not in told_new:
            told_new.add(key)
            out.append((InboundEvent(id=new[key], **rows[key]), True))
            continue
        if key not in stored:
            found = InboundEvent(id=new[key], **rows[key]) if key in new else find(provider, event_key)
            assert found is not None, "a conflicting row must exist once ON CONFLICT skipped the insert"
            stored[key] = found
        out.append((stored[key], False))
    return out


def find(session: Session, provider: str, event_key: str) -> InboundEvent | None:
    """The stored event with this provider's key, if any."""
    return session.exec(
        select(InboundEvent).where(InboundEvent.provider == provider, InboundEvent.event_key == event_key)
    ).first()


_EVENTS = InboundEvent.__table__  # type: ignore[attr-defined]
# Prebuilt Core statements on the session's connection: the claim and the finish of every event run
# these, and the ORM's bulk UPDATE path (statement construction, ORM compile, session
# synchronisation, an object built through the model) cost several times the round trip.
_CLAIM = (
    update(_EVENTS)
    .where(_EVENTS.c.id == bindparam("event_id"),
           _EVENTS.c.status == INBOUND.guard(InboundStatus.RECEIVED, InboundStatus.PROCESSING))
    .values(status=InboundStatus.PROCESSING.value, attempts=_EVENTS.c.attempts + 1,
            processed_at=bindparam("now", type_=UTCDateTime))
    .returning(*_EVENTS.columns)
)
_FINISH = (
    update(_EVENTS)
    .where(_EVENTS.c.id == bindparam("event_id"),
           _EVENTS.c.status.in_(INBOUND.sources(InboundStatus.PROCESSED)))
    .values(status=InboundStatus.PROCESSED.value, processed_at=bindparam("now", type_=UTCDateTime), error=None)
)


def claim(session: Session, event_id: int, now: datetime) -> InboundEvent | None:
    """Take a received event for processing (one worker wins); None if it is not waiting.

    One ``UPDATE … RETURNING``; the event comes back detached (the session does not track it)."""
    rows = session.connection().execute(_CLAIM, {"event_id": event_id, "now": now}).mappings().all()
    return loaded(InboundEvent, dict(rows[0])) if len(rows) == 1 else None


def finish(session: Session, event_id: int, now: datetime) -> None:
    """The processor succeeded (one UPDATE, no read first)."""
    session.connection().execute(_FINISH, {"event_id": event_id, "now": now})


def note_error(session: Session, event_id: int, error: str) -> None:
    """Why a finished event carried nothing to act on (kept for the operator)."""
    row = session.get(InboundEvent, event_id)
    assert row is not None
    row.error = error[:2000]


def rescued(session: Session, event_id: int, error: str, now: datetime) -> None:
    """The processor kept failing and ``core.rescue`` kept, answered and triaged the message instead."""
    row = session.get(InboundEvent, event_id)
    assert row is not None
    INBOUND.move(row, InboundStatus.RESCUED, now)
    row.processed_at, row.error = now, error[:2000]


def retry_later(session: Session, event_id: int, error: str, now: datetime, max_attempts: int) -> None:
    """The processor failed: try again after a backoff, or give up after ``max_attempts``."""
    row = session.get(InboundEvent, event_id)
    assert row is not None
    row.error = error[:2000]
    INBOUND.move(row, InboundStatus.FAILED if row.attempts >= max_attempts else InboundStatus.RECEIVED, now)
    # processed_at doubles as "not before" for the retry.
    row.processed_at = now + timedelta(seconds=min(600, 5 * 2**row.attempts))


def release_lapsed(session: Session, *, claimed_before: datetime) -> int:
    """Events being processed since before ``claimed_before`` (their worker vanished) go back to received."""
    released = session.execute(
        update(InboundEvent)
        .where(
            col(InboundEvent.status) == INBOUND.guard(InboundStatus.PROCESSING, InboundStatus.RECEIVED),
            col(InboundEvent.processed_at) < claimed_before,
        )
        .values(status=InboundStatus.RECEIVED.value)
    ).rowcount  # type: ignore[attr-defined]
    return int(released or 0)


def due_ids(session: Session, *, horizon: datetime, limit: int) -> list[int]:
    """Ids of received events due by ``horizon`` (received by then, no retry waiting after it)."""
    return [
        event_id or 0
        for event_id in session.exec(
            select(InboundEvent.id)
            .where(
                InboundEvent.status == "received",
                or_(col(InboundEvent.processed_at).is_(None), col(InboundEvent.processed_at) <= horizon),
                col(InboundEvent.received_at) <= horizon,
            )
            .limit(limit)
        ).all()
    ]
