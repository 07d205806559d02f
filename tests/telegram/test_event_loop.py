"""The event loop is never the one waiting on the database.

A second PostgreSQL connection holds a lock that one webhook's insert must wait for (an uncommitted
row with the same unique key). While that webhook waits, the same process keeps answering
``/healthz`` and other webhooks; when the lock goes, the waiting webhook is stored and answered too.
"""

from __future__ import annotations

import asyncio
import json

import psycopg
import pytest

from tests.conftest import _pg_url
from tests.telegram.conftest import BOT_NAME, MakeWorld
from tests.telegram.support import inbound_events

pytestmark = pytest.mark.postgres
WEBHOOK = f"/webhooks/telegram/{BOT_NAME}"


def update(update_id: int, text: str) -> dict:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 1_780_000_000,
            "chat": {"id": 8100000042, "type": "private"},
            "from": {"id": 8100000042, "is_bot": False, "first_name": "建国"},
            "text": text,
        },
    }


async def test_a_webhook_waiting_on_a_row_lock_does_not_stop_the_others(
    make_telegram_world: MakeWorld, framework: str
) -> None:
    world = await make_telegram_world(backend="postgres")
    headers = {"X-Telegram-Bot-Api-Secret-Token": world.bot.secret_token}
    database = world.services.db.engine.url.database
    assert database is not None
    blocker = psycopg.connect(_pg_url(database).replace("+psycopg", ""))
    try:
        # Another transaction has inserted update 700 and not committed yet: our insert of the same
        # key must wait for it (that is how PostgreSQL keeps a unique index unique).
        blocker.execute(
            "INSERT INTO inbound_events (provider, event_key, payload, received_at, status, attempts) "
            "VALUES (%s, %s, %s, now(), 'received', 0)",
            (f"telegram:{BOT_NAME}", "700", json.dumps(update(700, "停水了"))),
        )
        waiting = asyncio.create_task(world.client.post(WEBHOOK, json=update(700, "停水了"), headers=headers))
        await asyncio.sleep(0.2)  # let it reach the database and wait there
        assert not waiting.done()

        health = await asyncio.wait_for(world.client.get("/healthz"), 10)
        others = [
            await asyncio.wait_for(world.client.post(WEBHOOK, json=update(701 + i, "楼道灯坏了"), headers=headers), 10)
            for i in range(3)
        ]
        assert health.status_code == 200
        assert [r.status_code for r in others] == [200, 200, 200]
        assert not waiting.done(), "the lock is still held: the first webhook is still waiting"
    finally:
        blocker.rollback()  # the other transaction gives up: our row goes in
        blocker.close()
    first = await asyncio.wait_for(waiting, 10)
    assert first.status_code == 200
    keys = sorted(e.event_key for e in inbound_events(world.services))
    assert keys == ["700", "701", "702", "703"]
