"""Inbound events (the durable inbox): stored once, claimed by one worker, finished or retried.

The only module that queries ``inbound_events`` for the webhooks and the processors; every function
runs inside a unit of work (``gridline.kernel.work.in_transaction``) and takes its session.
"""

from __future__ import annotations

import functools
import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, or_, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from gridline.domain.lifecycle import INBOUND, InboundStatus
from gridline.storage import pg_job_rows
from gridline.storage.models import InboundEvent
from gridline.storage.prepared import Prepared
from gridline.storage.rows import loaded
from gridline.storage.types import UTCDateTime

Arrival = tuple[str, str, dict[str, Any]]  # (provider, event_key, payload)
Receipt = tuple[int, bool]  # (the stored event's id, whether this arrival stored it)


def store_once(session: Session, arrivals: list[Arrival], now: datetime) -> list[Receipt]:
    """Store each arriving event unless its ``(provider, event_key)`` is there already; for each, in
    order, ``(id, True)`` when it is new or ``(the stored event's id, False)`` for a repeat (also a
    repeat within ``arrivals``).

    One ``INSERT … VALUES (…), (…) ON CONFLICT DO NOTHING RETURNING`` for all of them (SQLAlchemy's
    "insertmanyvalues": one statement, compiled once and cached whatever the batch size): a repeat
    costs no exception and no rolled-back transaction, a new event no ORM flush. On PostgreSQL a
    concurrent insert of the same key waits for the other transaction, then does nothing, and
    ``find`` sees it.
    """
    statement = _INSERT_POSTGRES if session.get_bind().dialect.name == "postgresql" else _INSERT_SQLITE
    rows = [{"provider": provider, "event_key": key, "payload": payload, "received_at": now, "status": "received",
             "attempts": 0} for provider, key, payload in _rows(arrivals).values()]
    new = {(provider, key): event_id for event_id, provider, key in session.execute(statement, rows)}

    def found(provider: str, key: str) -> int | None:
        event = find(session, provider, key)
        return event.id if event is not None else None

    return _answers(arrivals, new, found)


def _insert(dialect: Any) -> Any:
    table_ = InboundEvent.__table__  # type: ignore[attr-defined]
    return (dialect.insert(table_).on_conflict_do_nothing(index_elements=["provider", "event_key"])
            .returning(table_.c.id, table_.c.provider, table_.c.event_key))


_INSERT_SQLITE, _INSERT_POSTGRES = _insert(sqlite), _insert(postgresql)


@functools.lru_cache(maxsize=128)
def _sqlite_insert(rows: int) -> str:
    """The SQLite text of :func:`store_once_sqlite`'s INSERT for ``rows`` rows (built once per size)."""
    values = ", ".join(["(?, ?, ?, ?, 'received', 0)"] * rows)
    return ("INSERT INTO inbound_events (provider, event_key, payload, received_at, status, attempts) "
            f"VALUES {values} ON CONFLICT (provider, event_key) DO NOTHING RETURNING id, provider, event_key")


_SQLITE_FIND = "SELECT id FROM inbound_events WHERE provider = ? AND event_key = ?"


@functools.lru_cache(maxsize=4)
def _binders(dialect: Any) -> tuple[Any, Any]:
    """The payload's and ``received_at``'s bind processors of ``dialect``: the values the ORM would
    send for them, so a row stored here reads back exactly as one stored by :func:`store_once`."""
    table_ = InboundEvent.__table__  # type: ignore[attr-defined]
    payload, received = (table_.c[name].type.dialect_impl(dialect).bind_processor(dialect)
                         for name in ("payload", "received_at"))
    return payload or (lambda value: value), received or (lambda value: value)


def store_once_sqlite(engine: Engine, arrivals: list[Arrival], now: datetime) -> list[Receipt]:
    """SQLite: :func:`store_once` in its own short transaction, without a session or the ORM: one
    INSERT whose text is built once per batch size (:func:`_sqlite_insert`), sent to the driver
    as it is — the webhooks' batches are the hottest statement there is, and the session, the
    statement's compilation and caching, and an ``InboundEvent`` per row were most of a stored
    update's cost in the database thread (docs/performance.md). The write lock is taken as for any
    other write (``storage.db._SqliteWriter``, which sees every statement on the engine)."""
    rows = _rows(arrivals)
    payload_of, time_of = _binders(engine.dialect)
    received_at = time_of(now)
    params: list[Any] = []
    for provider, key, payload in rows.values():
        params += (provider, key, payload_of(payload), received_at)
    with engine.begin() as connection:
        new = {(provider, key): event_id
               for event_id, provider, key in connection.exec_driver_sql(_sqlite_insert(len(rows)), tuple(params))}

        def found(provider: str, key: str) -> int | None:
            row = connection.exec_driver_sql(_SQLITE_FIND, (provider, key)).first()
            return int(row[0]) if row is not None else None

        return _answers(arrivals, new, found)


# PostgreSQL: the batch as arrays, so the statement's text is the same for any batch size (psycopg
# prepares it after a few runs), and the job of each new row in the same statement, written by
# ``storage.pg_job_rows.job_per_row`` (the one place besides procrastinate that writes its jobs).
_STORE_QUEUED = text(
    """
    WITH stored AS (
        INSERT INTO inbound_events (provider, event_key, payload, received_at, status, attempts)
        SELECT a.provider, a.event_key, CAST(a.payload AS json), :received_at, 'received', 0
        FROM unnest(CAST(:providers AS text[]), CAST(:event_keys AS text[]), CAST(:payloads AS text[]))
             AS a(provider, event_key, payload)
        ON CONFLICT (provider, event_key) DO NOTHING
        RETURNING id, provider, event_key
    ), queued AS ("""
    + pg_job_rows.job_per_row("stored", key_prefix="inbound", arg="event_id")
    + """)
    SELECT id, provider, event_key FROM stored
    """
).bindparams(bindparam("received_at", type_=UTCDateTime))
_PG_FIND = text("SELECT id FROM inbound_events WHERE provider = :provider AND event_key = :key")


def store_once_queued(engine: Engine, arrivals: list[Arrival], now: datetime, queue: str = pg_job_rows.QUEUE,
                      task: str = "process_inbound") -> list[Receipt]:
    """PostgreSQL: :func:`store_once` plus a ``task`` job (procrastinate's ``procrastinate_jobs``; key
    ``inbound:<id>``, args ``{"event_id": id}``) for each new event, in ONE autocommitted statement.

    As atomic as a transaction holding both INSERTs (one statement commits or fails whole), and
    durable when it returns, but one round trip to the server instead of four (BEGIN, the inbox
    INSERT, the job INSERT, COMMIT): the whole of a webhook's cost in the database. That is why
    the job is not procrastinate's ``defer`` (its own connection and transaction: a second round
    trip, and a row without its job if the process dies between them).
    """
    rows = _rows(arrivals)
    params = {"received_at": now, **pg_job_rows.job_per_row_params(task, queue),
              "providers": [provider for provider, _, _ in rows.values()],
              "event_keys": [key for _, key, _ in rows.values()],
              "payloads": [json.dumps(payload) for _, _, payload in rows.values()]}
    with engine.connect() as connection:
        connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        new = {(provider, key): event_id for event_id, provider, key in connection.execute(_STORE_QUEUED, params)}

        def found(provider: str, key: str) -> int | None:
            event_id = connection.execute(_PG_FIND, {"provider": provider, "key": key}).scalar()
            return int(event_id) if event_id is not None else None

        return _answers(arrivals, new, found)


def _rows(arrivals: list[Arrival]) -> dict[tuple[str, str], Arrival]:
    """The arrivals once per key (the first of repeats within the batch), in order."""
    rows: dict[tuple[str, str], Arrival] = {}
    for arrival in arrivals:
        rows.setdefault((arrival[0], arrival[1]), arrival)
    return rows


def _answers(arrivals: list[Arrival], new: dict[tuple[str, str], int], find: Any) -> list[Receipt]:
    out: list[Receipt] = []
    told_new: set[tuple[str, str]] = set()
    stored: dict[tuple[str, str], int] = {}
    for provider, event_key, _ in arrivals:
        key = (provider, event_key)
        event_id = new.get(key)
        if event_id is not None and key not in told_new:
            told_new.add(key)
            out.append((event_id, True))
            continue
        if event_id is None:
            event_id = stored.get(key)
            if event_id is None:
                event_id = find(provider, event_key)
                assert event_id is not None, "a conflicting row must exist once ON CONFLICT skipped the insert"
                stored[key] = event_id
        out.append((event_id, False))
    return out


def find(session: Session, provider: str, event_key: str) -> InboundEvent | None:
    """The stored event with this provider's key, if any."""
    return session.exec(
        select(InboundEvent).where(InboundEvent.provider == provider, InboundEvent.event_key == event_key)
    ).first()


_EVENTS = InboundEvent.__table__  # type: ignore[attr-defined]
# Prebuilt Core statements, run by ``storage.prepared`` on the session's connection: the claim and
# the finish of every event run these, and the ORM's bulk UPDATE path (statement construction, ORM
# compile, session synchronisation, an object built through the model) cost several times the round trip.
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
_CLAIMED_KEYS = tuple(column.key for column in _EVENTS.columns)
_PREPARED_CLAIM, _PREPARED_FINISH = Prepared(_CLAIM), Prepared(_FINISH)


def claim(session: Session, event_id: int, now: datetime) -> InboundEvent | None:
    """Take a received event for processing (one worker wins); None if it is not waiting.

    One ``UPDATE … RETURNING``; the event comes back detached (the session does not track it)."""
    rows = _PREPARED_CLAIM.rows(session, {"event_id": event_id, "now": now})
    return loaded(InboundEvent, dict(zip(_CLAIMED_KEYS, rows[0], strict=True))) if len(rows) == 1 else None


def finish(session: Session, event_id: int, now: datetime) -> None:
    """The processor succeeded (one UPDATE, no read first)."""
    _PREPARED_FINISH.run(session, {"event_id": event_id, "now": now})


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
