"""The webhook: only Telegram (with the secret) gets in, everything is stored before the 200, once.

And the two ways updates arrive: ``setWebhook`` at start-up when Gridline is public, long polling
for local development.
"""

from __future__ import annotations

import asyncio
import json

import pytest

from tests.telegram.conftest import BOT_NAME, PUBLIC_URL, MakeWorld, TelegramWorld, telegram_bots
from tests.telegram.support import cases, inbound_events
from tests.telegram.test_conversations import register_by_location

WEBHOOK = f"/webhooks/telegram/{BOT_NAME}"


async def test_start_up_registers_the_webhook_with_its_secret(telegram_world: TelegramWorld):
    world = telegram_world
    hook = world.fake.webhooks[world.token]
    assert hook.url == f"{PUBLIC_URL}{WEBHOOK}"
    assert hook.secret_token == world.bot.secret_token


async def test_a_local_address_registers_no_webhook(make_telegram_world: MakeWorld):
    world = await make_telegram_world(public_url="http://127.0.0.1:8000")
    assert world.fake.webhooks == {}
    assert [c.method for c in world.fake.calls] == ["getMe"]


async def test_telegram_being_down_at_start_up_does_not_stop_gridline(make_telegram_world: MakeWorld):
    world = await make_telegram_world(start=False)
    world.fake.fail_next("getMe", 502)
    await telegram_bots(world.services).start()  # logged, not raised
    assert world.fake.webhooks == {}
    resident = world.person(8100000001, "建国")
    # Sending still works once Telegram is back (getMe is retried lazily).
    await telegram_bots(world.services).get(world.bot_name).runtime.send_text(resident.chat_id, "你好")
    assert resident.texts == ["你好"]


@pytest.mark.parametrize("secret", ["wrong-secret", ""])
async def test_a_forged_or_missing_secret_is_refused_and_nothing_is_stored(telegram_world: TelegramWorld, secret):
    world = telegram_world
    resident = world.person(8100000001, "建国")
    response = await world.post(resident.message_update({"text": "停水了"}), secret=secret)
    assert response.status_code == 403
    await world.drain()
    assert inbound_events(world.services) == []
    assert cases(world.services) == []
    assert resident.inbox == []


async def test_an_unknown_bot_is_not_found(telegram_world: TelegramWorld):
    world = telegram_world
    response = await world.client.post(
        "/webhooks/telegram/nosuchbot",
        content=json.dumps({"update_id": 1}),
        headers={"X-Telegram-Bot-Api-Secret-Token": world.bot.secret_token},
    )
    assert response.status_code == 404


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b'{"message": {}}', b'{"update_id": "7"}', b"\xff\xfe"])
async def test_what_is_not_an_update_is_a_bad_request_not_a_crash(telegram_world: TelegramWorld, body):
    world = telegram_world
    response = await world.client.post(
        WEBHOOK, content=body, headers={"X-Telegram-Bot-Api-Secret-Token": world.bot.secret_token}
    )
    assert response.status_code == 400
    assert inbound_events(world.services) == []


async def test_a_repeated_update_is_stored_and_handled_once(telegram_world: TelegramWorld):
    world = telegram_world
    resident = await register_by_location(world)
    update = resident.message_update({"text": "小区门口的路灯坏了"})
    first = await world.post(update)
    again = await world.post(update)  # Telegram retries when it missed our 200
    assert (first.status_code, again.status_code) == (200, 200)
    await world.drain()
    assert len(cases(world.services)) == 1
    assert [e.event_key for e in inbound_events(world.services)].count(str(update["update_id"])) == 1


async def test_the_update_is_stored_before_the_answer_and_processed_afterwards(telegram_world: TelegramWorld):
    world = telegram_world
    resident = world.person(8100000001, "建国")
    await resident.says("/start")
    [event] = inbound_events(world.services)
    assert event.provider == f"telegram:{BOT_NAME}" and event.status == "received"
    assert resident.inbox == [], "nothing is answered before processing"
    await world.drain()
    [event] = inbound_events(world.services)
    assert event.status == "processed"
    assert resident.inbox


async def test_long_polling_feeds_the_same_inbox(make_telegram_world: MakeWorld):
    world = await make_telegram_world(public_url="http://127.0.0.1:8000", use_polling=True)
    await until(lambda: "deleteWebhook" in [c.method for c in world.fake.calls])
    resident = world.person(8100000001, "建国", via="polling")
    await resident.says("/start")
    await until(lambda: len(inbound_events(world.services)) == 1)
    await world.drain()
    assert "网格" in resident.texts[0]
    # The next getUpdates confirms the offset, so the update is not handed out again.
    await until(lambda: any(int(c.params.get("offset") or 0) > 0 for c in world.fake.calls_of("getUpdates")))
    assert len(inbound_events(world.services)) == 1


async def until(condition, *, seconds: float = 10.0) -> None:
    """Wait for the background poller (not a timing assertion: fails only if it never happens)."""
    for _ in range(int(seconds / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition never became true")


async def test_an_update_that_cannot_be_read_is_logged_and_dropped_not_retried_forever(telegram_world: TelegramWorld):
    world = telegram_world
    broken = {"update_id": world.fake.next_update_id(), "message": {"text": "no chat, no date, no id"}}
    response = await world.post(broken)
    assert response.status_code == 200
    await world.drain()
    [event] = inbound_events(world.services)
    assert event.status == "processed"
