"""The durable inbox stores each provider event once and processes it afterwards, even when the
processor fails at first or Redis forgets the idempotency keys."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.exc import StatementError
from sqlmodel import select

from gridline.core.inbox import receive_event
from gridline.storage.models import InboundEvent
from tests.conftest import forget_redis


async def test_a_repeated_event_is_stored_and_processed_once(scenario_services, drain):
    services = scenario_services
    seen: list[int] = []

    async def processor(services_, event):
        seen.append(event.id)

    services.inbound_processors["test"] = processor
    first, new1 = await receive_event(services, "test:bot", "42", {"update_id": 42})
    again, new2 = await receive_event(services, "test:bot", "42", {"update_id": 42})
    assert new1 and not new2 and again.id == first.id
    if services.settings.redis.url:
        forget_redis(services)  # the hint (and the queued job) are gone; the row is not
    third, new3 = await receive_event(services, "test:bot", "42", {"update_id": 42})
    assert not new3 and third.id == first.id
    await drain(services)
    assert seen == [first.id]


async def test_a_failing_processor_is_retried_until_it_succeeds(services, drain, clock):
    attempts: list[int] = []

    async def flaky(services_, event):
        attempts.append(event.id)
        if len(attempts) < 3:
            raise RuntimeError("provider hiccup")

    services.inbound_processors["test"] = flaky
    event, _ = await receive_event(services, "test:bot", "7", {})
    for _ in range(5):
        await drain(services)
        clock.advance(minutes=2)
    await drain(services)
    with services.db.session() as session:
        row = session.exec(select(InboundEvent).where(InboundEvent.id == event.id)).one()
    assert len(attempts) == 3
    assert row.status == "processed"


async def test_retention_purges_old_text_once_a_day_from_the_reconciler(make_services, drain, clock):
    from gridline.core.conversation import handle_inbound
    from gridline.kernel.messages import InboundMessage
    from gridline.storage.models import Case, Message

    services = await make_services(console={"retention_days": 30})
    from gridline.routing.supervision import close_case

    outcome = await handle_inbound(
        services, InboundMessage(channel="sms", external_id="+8617000010001", text="小区门口的路灯不亮了")
    )
    await close_case(services, outcome.case_id, "console:test", "fixed")  # open cases keep their text
    clock.advance(days=31)
    await drain(services)
    with services.db.session() as session:
        inbound = session.exec(select(Message).where(Message.direction == "in")).all()
        cases = session.exec(select(Case)).all()
    assert inbound and all(m.text_purged and not m.text for m in inbound)
    assert len(cases) == 1  # the statistics stay


async def test_the_same_event_arriving_concurrently_is_stored_once(scenario_services):
    """A provider retrying while the first delivery is still being stored: one row, one "new"."""
    services = scenario_services
    results = await asyncio.gather(*(receive_event(services, "test:bot", "77", {"update_id": 77}) for _ in range(6)))
    assert sorted(is_new for _, is_new in results) == [False] * 5 + [True]
    assert len({event.id for event, _ in results}) == 1
    with services.db.session() as session:
        rows = session.exec(select(InboundEvent).where(InboundEvent.event_key == "77")).all()
    assert [row.id for row in rows] == [results[0][0].id]


async def test_events_arriving_together_are_each_stored_and_processed_once(scenario_services, drain):
    """Webhooks arriving while a store is in flight share its next transaction (group commit)."""
    services = scenario_services
    seen: list[int] = []

    async def processor(services_, event):
        seen.append(event.id)

    services.inbound_processors["test"] = processor
    results = await asyncio.gather(*(receive_event(services, "test:bot", str(n), {"update_id": n})
                                     for n in range(40)))
    assert all(is_new for _, is_new in results)
    ids = [event.id for event, _ in results]
    assert len(set(ids)) == 40
    with services.db.session() as session:
        rows = session.exec(select(InboundEvent).where(InboundEvent.provider == "test:bot")).all()
    assert {row.id: row.payload["update_id"] for row in rows} == {event.id: n for n, (event, _) in enumerate(results)}
    await drain(services)
    assert sorted(seen) == sorted(ids)


async def test_an_event_the_database_refuses_does_not_fail_those_stored_with_it(scenario_services):
    services = scenario_services
    unstorable = {"update_id": 5, "not_json": object()}
    results = await asyncio.gather(
        *(receive_event(services, "test:bot", str(n), {"update_id": n}) for n in range(4)),
        receive_event(services, "test:bot", "5", unstorable),
        return_exceptions=True,
    )
    assert all(isinstance(r, tuple) and r[1] for r in results[:4])
    # SQLite: SQLAlchemy's JSON type refuses it; PostgreSQL: the batch's JSON encoding does.
    assert isinstance(results[4], StatementError | TypeError)
    with services.db.session() as session:
        keys = sorted(session.exec(select(InboundEvent.event_key).where(InboundEvent.provider == "test:bot")).all())
    assert keys == ["0", "1", "2", "3"]
    with pytest.raises((StatementError, TypeError)):  # alone, too: the caller gets the error (the webhook answers 500)
        await receive_event(services, "test:bot", "6", unstorable)


async def test_a_webhook_right_after_the_database_cut_its_connections_is_stored(make_services):
    """A PostgreSQL restart or failover between two webhooks: the next one is stored on a fresh
    connection (storing is idempotent, so the writer tries once more), not answered 500."""
    import psycopg

    from tests.conftest import BACKENDS

    if "postgres" not in BACKENDS:
        pytest.skip("PostgreSQL not among GRIDLINE_TEST_BACKENDS")
    services = await make_services("postgres")
    await receive_event(services, "test:bot", "1", {"update_id": 1})  # a pooled connection, just used
    url = services.db.url.replace("+psycopg", "")
    with psycopg.connect(url, autocommit=True) as conn:
        cut = conn.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                           "WHERE datname = current_database() AND pid <> pg_backend_pid()").fetchone()
    assert cut and cut[0] >= 1
    event, is_new = await receive_event(services, "test:bot", "2", {"update_id": 2})
    assert is_new and event.id is not None
    with services.db.session() as session:
        keys = sorted(session.exec(select(InboundEvent.event_key).where(InboundEvent.provider == "test:bot")).all())
    assert keys == ["1", "2"]


async def _sms_processor(services_, event):
    from gridline.core.conversation import handle_inbound
    from gridline.kernel.messages import InboundMessage

    msg = InboundMessage(channel="sms", external_id="+8617000010001", text=event.payload["text"],
                         provider_message_id=event.event_key)
    await handle_inbound(services_, msg)


async def test_the_transaction_that_stores_the_message_finishes_its_event(scenario_services, drain, monkeypatch):
    import gridline.core.inbox as core_inbox
    from gridline.storage.models import Message

    services = scenario_services

    def no_transaction_of_its_own(work, event_id):
        raise AssertionError("the event was finished by a transaction of its own")

    monkeypatch.setattr(core_inbox, "_finish", no_transaction_of_its_own)
    services.inbound_processors["test"] = _sms_processor
    event, _ = await receive_event(services, "test:sms", "SMfinish1", {"text": "小区门口的路灯不亮了"})
    await drain(services)
    with services.db.session() as session:
        row = session.exec(select(InboundEvent).where(InboundEvent.id == event.id)).one()
        stored = session.exec(select(Message).where(Message.provider_message_id == "SMfinish1")).all()
    assert row.status == "processed" and row.error is None
    assert len(stored) == 1


async def test_an_event_that_stored_no_message_is_finished_afterwards(services, drain):
    seen: list[int] = []

    async def button(services_, event):  # nothing stored (a button press, a duplicate)
        seen.append(event.id)

    services.inbound_processors["test"] = button
    event, _ = await receive_event(services, "test:bot", "8", {})
    await drain(services)
    with services.db.session() as session:
        assert session.exec(select(InboundEvent.status).where(InboundEvent.id == event.id)).one() == "processed"
    assert seen == [event.id]


async def test_a_failure_after_the_message_was_stored_keeps_the_error_and_stores_nothing_twice(services, drain, clock):
    from gridline.storage.models import Message

    runs: list[int] = []

    async def stores_then_fails(services_, event):  # a staff follow-up failing after the message was kept
        runs.append(event.id)
        await _sms_processor(services_, event)
        raise RuntimeError("the follow-up failed")

    services.inbound_processors["test"] = stores_then_fails
    event, _ = await receive_event(services, "test:sms", "SMfinish2", {"text": "小区门口的路灯不亮了"})
    for _ in range(3):
        await drain(services)
        clock.advance(minutes=15)
    with services.db.session() as session:
        row = session.exec(select(InboundEvent).where(InboundEvent.id == event.id)).one()
        stored = session.exec(select(Message).where(Message.provider_message_id == "SMfinish2")).all()
    # As when it was retried (the retry found the message already received and did nothing more):
    # processed, the message kept once; now the error stays on the event for the operator.
    assert row.status == "processed" and row.error and "the follow-up failed" in row.error
    assert len(stored) == 1 and runs == [event.id]


async def test_the_embedded_store_writes_the_rows_the_orm_wrote(services):
    """SQLite's webhook batches go to the driver as one INSERT built once per batch size
    (``storage.inbox.store_once_sqlite``): the rows read back exactly as the ORM's statement stored
    them (payload JSON text, received_at), repeats answer the stored id, and nothing else changes."""
    from datetime import UTC, datetime

    from sqlalchemy import text

    from gridline.storage import inbox

    now = datetime(2026, 12, 1, 12, 30, 15, 123456, tzinfo=UTC)
    payload = {"update_id": 1, "message": {"text": "楼道灯坏了 \"引号\"", "n": [1, 2.5, None, True]}}
    orm = [("orm:bot", "1", payload), ("orm:bot", "2", {"update_id": 2}), ("orm:bot", "1", payload)]
    raw = [(provider.replace("orm", "raw"), key, body) for provider, key, body in orm]
    with services.db.session() as session:
        orm_receipts = inbox.store_once(session, orm, now)
    raw_receipts = inbox.store_once_sqlite(services.db.engine, raw, now)
    assert [is_new for _, is_new in raw_receipts] == [is_new for _, is_new in orm_receipts] == [True, True, False]
    assert raw_receipts[0][0] == raw_receipts[2][0] != raw_receipts[1][0]

    def columns(provider: str) -> list[tuple[object, ...]]:
        with services.db.engine.connect() as conn:
            return [tuple(row) for row in conn.execute(text(
                "SELECT event_key, payload, received_at, status, attempts, processed_at, error FROM inbound_events "
                "WHERE provider = :p ORDER BY id"), {"p": provider})]

    assert columns("raw:bot") == columns("orm:bot")
    assert len(columns("raw:bot")) == 2
    with services.db.session() as session:
        stored = session.exec(select(InboundEvent).where(InboundEvent.provider == "raw:bot")
                              .order_by(InboundEvent.id)).all()
    assert [(e.payload, e.received_at, e.status) for e in stored] == [(payload, now, "received"),
                                                                      ({"update_id": 2}, now, "received")]
    # A later batch repeating a stored key, with a new one between: the stored id, then the new one's.
    again = inbox.store_once_sqlite(services.db.engine, [raw[1], ("raw:bot", "3", {"update_id": 3})], now)
    assert again[0] == (raw_receipts[1][0], False) and again[1][1] is True
    assert len(columns("raw:bot")) == 3
