"""A case passed up (上报) past several people: when one of them takes it, the pages the others got
on Telegram say who took it, so nobody else goes out."""

from __future__ import annotations

from tests.telegram.conftest import TelegramWorld
from tests.telegram.support import pages, prefer_telegram
from tests.telegram.test_conversations import LIAO_ZHIQIANG, register_by_location

YE_BAOGUO = 7000000003  # 叶保国, GX01-01-2's backup on weekdays
FU_ZIHAN = 7000000022  # 傅子涵, the level-2 contact of GX01-01


async def test_when_the_level2_contact_takes_an_escalated_case_the_earlier_pages_say_who_took_it(
    telegram_world: TelegramWorld,
):
    world = telegram_world
    prefer_telegram(world.services, "L2-GX01-01")
    resident = await register_by_location(world)
    leader = world.person(LIAO_ZHIQIANG, "志强")
    backup = world.person(YE_BAOGUO, "保国")
    contact = world.person(FU_ZIHAN, "子涵")
    await resident.says("俺们楼从昨天就停水了，咋弄")
    await world.drain()
    await leader.taps("上报")  # → the backup
    await world.drain()
    await backup.taps("上报")  # → the level-2 contact
    await world.drain()
    leaders_page, backups_page = leader.last_message, backup.last_message
    assert "廖志强已上报" in leaders_page.text and "叶保国已上报" in backups_page.text

    await contact.taps("接单")
    await world.drain()

    for page in (leaders_page, backups_page):
        assert "已由傅子涵接单" in page.text, page.text
        assert page.buttons == []
    assert "您已接单" in contact.last_message.text
    assert [p.status for p in pages(world.services)] == ["expired", "expired", "acknowledged"]


async def test_the_leader_who_passed_a_case_up_reads_on_that_page_who_took_it_in_one_edit(
    telegram_world: TelegramWorld,
):
    world = telegram_world
    resident = await register_by_location(world)
    leader = world.person(LIAO_ZHIQIANG, "志强")
    backup = world.person(YE_BAOGUO, "保国")
    await resident.says("俺们楼从昨天就停水了，咋弄")
    await world.drain()
    await leader.taps("上报")
    await world.drain()
    leaders_page = leader.last_message
    edits_before = list(leaders_page.edits)

    await backup.taps("接单")
    await world.drain()

    assert "已由叶保国接单" in leaders_page.text
    assert len(leaders_page.edits) == len(edits_before) + 1
    assert backup.last_message.text.endswith("✅ 您已接单。")
