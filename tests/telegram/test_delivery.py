"""Getting pages through: flood control, outages, blocked bots, long texts, escalation and updates."""

from __future__ import annotations

from datetime import timedelta

from tests.core.support import RecordingNotifier
from tests.telegram.conftest import TelegramWorld
from tests.telegram.support import contact_methods, only_case, pages, prefer_telegram, staff
from tests.telegram.test_conversations import LIAO_ZHIQIANG, register_by_location

LIAO = "LDR-GX01-01-2"
YE_BAOGUO = 7000000003  # member and weekday backup of GX01-01-2
FU_ZIHAN = 7000000022  # 傅子涵, level-2 contact of 莲花社区 (GX01-01)


async def report(world: TelegramWorld, text: str = "楼道灯坏了三天了"):
    resident = await register_by_location(world)
    await resident.says(text)
    await world.drain()
    return resident


def advance(world: TelegramWorld, **delta: float) -> None:
    world.clock.advance(timedelta(**delta))


async def test_flood_control_is_honoured_and_the_page_retried_after_retry_after(telegram_world: TelegramWorld):
    world = telegram_world
    leader = world.person(LIAO_ZHIQIANG, "志强")
    world.fake.fail_next("sendMessage", 429, retry_after=30, chat_id=leader.chat_id)
    await report(world)
    assert leader.inbox == []
    [page] = pages(world.services)
    assert page.status == "scheduled"
    assert page.next_attempt_at == world.services.clock.now() + timedelta(seconds=30)

    advance(world, seconds=29)
    await world.drain()
    assert leader.inbox == [], "not before Telegram's retry_after"
    advance(world, seconds=1)
    await world.drain()
    assert "接单" in leader.last_message.button_labels
    assert [c.status for c in world.fake.calls_of("sendMessage", chat_id=leader.chat_id)] == [429, 200]


async def test_a_server_error_is_retried_with_backoff(telegram_world: TelegramWorld):
    world = telegram_world
    leader = world.person(LIAO_ZHIQIANG, "志强")
    world.fake.fail_next("sendMessage", 500, times=2, chat_id=leader.chat_id)
    await report(world)
    assert leader.inbox == []
    for _ in range(3):
        advance(world, seconds=30)
        await world.drain()
    assert "接单" in leader.last_message.button_labels
    assert [c.status for c in world.fake.calls_of("sendMessage", chat_id=leader.chat_id)] == [500, 500, 200]


async def test_a_blocked_bot_falls_back_to_the_leaders_next_channel(telegram_world: TelegramWorld):
    world = telegram_world
    sms = RecordingNotifier("sms")
    world.services.notifiers.register(sms)
    leader = world.person(LIAO_ZHIQIANG, "志强")
    world.fake.fail_next("sendMessage", 403, chat_id=leader.chat_id)
    await report(world)

    liao = staff(world.services, LIAO)
    his_pages = [p for p in pages(world.services) if p.staff_id == liao.id]
    assert [(p.channel, p.status) for p in his_pages][:2] == [("telegram", "failed"), ("sms", "sent")]
    assert [n.staff_name for n in sms.pages] == ["廖志强"]
    telegram_method = next(m for m in contact_methods(world.services, liao.id) if m.channel == "telegram")
    assert telegram_method.unreachable


async def test_texts_over_4096_characters_arrive_in_parts(telegram_world: TelegramWorld):
    world = telegram_world
    resident = await report(world)
    leader = world.person(LIAO_ZHIQIANG, "志强")
    await leader.taps("接单")
    await world.drain()
    long_reply = "维修说明：" + "明天上午九点施工，请提前储水。" * 290  # ~4300 characters with the prefix
    await leader.says(long_reply, reply_to=leader.inbox[0])
    await world.drain()
    parts = resident.texts[-2:]
    assert all(len(p) <= 4096 for p in parts)
    assert long_reply in "".join(parts)


async def test_no_acknowledgement_escalates_to_the_level2_contacts_telegram(telegram_world: TelegramWorld):
    world = telegram_world
    prefer_telegram(world.services, "L2-GX01-01")  # 傅子涵 reads Telegram first
    leader = world.person(LIAO_ZHIQIANG, "志强")
    backup = world.person(YE_BAOGUO, "保国")
    contact = world.person(FU_ZIHAN, "子涵")
    resident = await report(world)
    ref = only_case(world.services).ref
    assert ref in leader.last_with_button("接单").text

    advance(world, minutes=16)
    await world.drain()
    assert ref in backup.last_with_button("接单").text
    assert contact.inbox == []

    advance(world, minutes=16)
    await world.drain()
    page = contact.last_with_button("接单")
    assert ref in page.text and page.button_labels == ["接单", "已解决", "上报", "转交"]

    # 傅子涵 takes it: every other page about the case loses its buttons and says who has it.
    await contact.taps("接单")
    await world.drain()
    assert only_case(world.services).status == "acknowledged"
    for other in (leader.inbox[0], backup.inbox[0]):
        assert other.buttons == [] and "傅子涵" in other.text
    assert "傅子涵" in resident.last_message.text


async def test_a_page_edit_hit_by_flood_control_is_made_after_retry_after(telegram_world: TelegramWorld):
    world = telegram_world
    leader = world.person(LIAO_ZHIQIANG, "志强")
    await report(world)
    world.fake.fail_next("editMessageText", 429, retry_after=20, chat_id=leader.chat_id)
    await leader.taps("接单")
    await world.drain()
    edits = world.fake.calls_of("editMessageText", chat_id=leader.chat_id)
    assert [c.status for c in edits] == [429]
    advance(world, seconds=21)
    await world.drain()
    edits = world.fake.calls_of("editMessageText", chat_id=leader.chat_id)
    assert [c.status for c in edits] == [429, 200]
