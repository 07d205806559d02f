"""Residents on Telegram, over the webhook, on python-telegram-bot and on aiogram alike.

Resident says X → the on-duty leader receives a page with buttons → taps 接单 → the resident is told.
"""

from __future__ import annotations

import pytest
from sqlmodel import select

from gridline.i18n import HAN
from gridline.storage.models import CaseEvent
from tests.telegram.conftest import TelegramWorld
from tests.telegram.support import cases, inbound_events, inbound_messages, only_case, pages, resident_of

# 廖志强 leads base grid GX01-01-2 (莲花社区第二网格) on weekdays 08:00–20:00; Telegram is his first channel.
LIAO_ZHIQIANG = 7000000002
INSIDE_GX01_01_2 = (34.8030, 113.5545)  # 红松路30号院, 高新花园
GX01_01_2 = "GX01-01-2"


async def register_by_location(world: TelegramWorld, user_id: int = 8100000001, name: str = "建国"):
    resident = world.person(user_id, name, last_name="王")
    await resident.says("/start")
    await resident.shares_location(*INSIDE_GX01_01_2)
    await world.drain()
    return resident


async def test_resident_report_reaches_the_leader_who_acknowledges_and_the_resident_is_told(
    telegram_world: TelegramWorld,
):
    world = telegram_world
    resident = await register_by_location(world)
    leader = world.person(LIAO_ZHIQIANG, "志强")

    await resident.says("俺们楼从昨天就停水了，咋弄")
    await world.drain()
    case = only_case(world.services)
    assert case.ref in resident.last_message.text and "廖志强" in resident.last_message.text

    page = leader.last_with_button("接单")
    assert case.ref in page.text and "停水" in page.text
    assert page.button_labels == ["接单", "已解决", "上报", "转交"]

    await leader.taps("接单")
    await world.drain()
    assert "接单" in leader.last_answer["text"]
    assert "廖志强" in resident.last_message.text and "接单" in resident.last_message.text
    # The page now says who has it and keeps only the follow-up buttons.
    assert page.edits and page.button_labels == ["已解决", "上报", "转交", "转办部门", "延期"]
    case = only_case(world.services)
    assert case.status == "acknowledged"
    assert [p.status for p in pages(world.services)] == ["acknowledged"]


async def test_resolving_asks_if_solved_then_for_a_rating_with_buttons(telegram_world: TelegramWorld):
    world = telegram_world
    resident = await register_by_location(world)
    leader = world.person(LIAO_ZHIQIANG, "志强")
    await resident.says("楼道灯坏了三天了")
    await world.drain()
    await leader.taps("接单")
    await world.drain()

    await leader.taps("已解决")
    await world.drain()
    page = leader.inbox[0]
    assert page.buttons == [], "a resolved case's page keeps no buttons"
    solved = resident.last_message
    assert solved.button_labels == ["是，解决了", "没有解决"]  # "resolved" is the leader's word
    await resident.taps("是，解决了")
    await world.drain()
    question = resident.last_message
    assert len(question.button_labels) == 5

    await resident.taps(question.button_labels[-1])  # five stars
    await world.drain()
    case = only_case(world.services)
    assert case.rating == 5
    assert question.buttons == [], "the rating buttons go once the rating is stored"


async def test_registration_by_typed_address_names_the_grid_and_its_leader(telegram_world: TelegramWorld):
    world = telegram_world
    resident = world.person(8100000002, "娜", last_name="曹")
    await resident.says("/start")
    await resident.says("长椿路14号院1号楼")
    await world.drain()
    assert "莲花社区第二网格" in resident.last_message.text and "廖志强" in resident.last_message.text
    registered = resident_of(world.services, resident.user_id, world.bot_name)
    assert registered is not None and registered.grid_code == GX01_01_2


async def test_registration_by_sharing_ones_own_contact_adopts_the_household_record(telegram_world: TelegramWorld):
    world = telegram_world
    # 方瑞峰 lives at 红松路30号院 (GX01-01-2); Telegram shares his number without the plus sign.
    resident = world.person(8100000003, "瑞峰", last_name="方")
    await resident.says("/start")
    await resident.shares_contact("8617000010010")
    await world.drain()
    registered = resident_of(world.services, resident.user_id, world.bot_name)
    assert registered is not None and registered.grid_code == GX01_01_2
    assert registered.phone == "+8617000010010"


async def test_someone_elses_contact_is_refused_and_registers_nothing(telegram_world: TelegramWorld):
    world = telegram_world
    resident = world.person(8100000004, "小明")
    await resident.says("/start")
    await resident.shares_contact("8617000010010", user_id=8100000003, first_name="瑞峰")
    await world.drain()
    assert "本人" in resident.last_message.text
    registered = resident_of(world.services, resident.user_id, world.bot_name)
    assert registered is None or (registered.grid_code is None and registered.phone is None)


async def test_a_forwarded_contact_card_without_a_telegram_account_is_refused(telegram_world: TelegramWorld):
    world = telegram_world
    resident = world.person(8100000005, "小红")
    await resident.shares_contact("8617000010010", user_id=None, first_name="瑞峰")
    await world.drain()
    assert "本人" in resident.last_message.text


async def test_welcome_is_in_chinese_and_lang_switches_to_english(telegram_world: TelegramWorld):
    world = telegram_world
    resident = world.person(8100000006, "David", language_code="en")
    await resident.says("/start")
    await world.drain()
    assert "网格" in resident.texts[0]
    await resident.says("/lang")
    await world.drain()
    assert "English" in resident.last_message.text
    await resident.sends_sticker()
    await world.drain()
    assert resident.last_message.text.startswith("Sorry")


async def test_a_newcomer_who_writes_in_english_is_answered_in_english(telegram_world: TelegramWorld):
    """Nobody types /lang before their first problem: the first words' language is theirs, as on SMS."""
    world = telegram_world
    resident = world.person(8100000007, "Ann", language_code="en")
    await resident.says("There is a strong gas smell in my stairwell")
    await world.drain()
    assert resident.texts and all(not HAN.search(text) for text in resident.texts), resident.texts
    chinese = world.person(8100000008, "秀梅")
    await chinese.says("楼道里有很大的煤气味")
    await world.drain()
    assert all(HAN.search(text) for text in chinese.texts)


async def test_a_photo_with_a_caption_is_attached_to_the_report(telegram_world: TelegramWorld):
    world = telegram_world
    resident = await register_by_location(world)
    await resident.sends_photo("单元门口的水管爆了，水漫出来了", file_id="burst-pipe")
    await world.drain()
    case = only_case(world.services)
    [photo_message] = [m for m in inbound_messages(world.services) if m.media]
    assert photo_message.case_id == case.id
    [media] = photo_message.media
    assert media["file_id"] == "burst-pipe"
    assert media["file_path"] == "photos/burst-pipe.jpg"
    assert "token" not in str(media) and world.token not in str(media)


async def test_stickers_and_voice_notes_get_a_polite_answer(telegram_world: TelegramWorld):
    world = telegram_world
    resident = await register_by_location(world)
    await resident.sends_sticker()
    await world.drain()
    assert "看不懂" in resident.last_message.text
    await resident.sends_voice_note()
    await world.drain()
    assert "语音" in resident.last_message.text and "12345" in resident.last_message.text
    assert cases(world.services) == []


async def test_edited_messages_and_channel_posts_are_ignored_without_errors(telegram_world: TelegramWorld):
    world = telegram_world
    resident = await register_by_location(world)
    said = len(resident.inbox)
    original = world.fake.record_incoming(resident.chat_id, resident.message_update({"text": "测试"})["message"])
    await resident.edits(original, "改过的话")
    post = {"message_id": 3, "date": 1_795_000_000, "chat": {"id": -1001, "type": "channel", "title": "公告"},
            "text": "停水通知"}
    response = await world.post({"update_id": world.fake.next_update_id(), "channel_post": post})
    assert response.status_code == 200
    await world.drain()
    assert len(resident.inbox) == said
    assert cases(world.services) == []
    assert all(event.status == "processed" for event in inbound_events(world.services))


@pytest.mark.parametrize("asked", ["/status", "状态", "进度。"])
async def test_status_lists_the_residents_open_cases_and_files_nothing(telegram_world: TelegramWorld, asked: str):
    # 「状态」 is what the SMS help teaches; a resident who types it here means what /status means.
    world = telegram_world
    resident = await register_by_location(world)
    await resident.says("小区门口路灯不亮了")
    await world.drain()
    case = only_case(world.services)
    await resident.says(asked)
    await world.drain()
    assert case.ref in resident.last_message.text
    assert len(cases(world.services)) == 1


async def test_when_unsure_the_resident_picks_the_category_with_buttons(make_telegram_world):
    # An NLU that is never sure enough: every report asks the resident to choose.
    world = await make_telegram_world(settings={"nlu": {"confidence_threshold": 1.01}})
    resident = await register_by_location(world)
    leader = world.person(LIAO_ZHIQIANG, "志强")
    await resident.says("楼下水管漏了一地")
    await world.drain()
    question = resident.last_message
    assert "供水" in question.button_labels and len(question.buttons) == len(question.button_labels)

    await resident.taps("供水", question)
    await world.drain()
    assert question.buttons == []
    case = only_case(world.services)
    assert case.category == "water_supply"
    assert case.ref in leader.last_with_button("接单").text


async def test_an_emergency_gets_the_119_120_110_advice_first(telegram_world: TelegramWorld):
    world = telegram_world
    resident = await register_by_location(world)
    said = len(resident.inbox)
    await resident.says("着火了！楼道里全是烟")
    await world.drain()
    first_answer = resident.texts[said]
    assert "119" in first_answer and "120" in first_answer and "110" in first_answer


async def test_asking_for_the_grid_leader_names_them_without_their_phone(telegram_world: TelegramWorld):
    world = telegram_world
    resident = await register_by_location(world)
    await resident.says("俺们的网格长是谁")
    await world.drain()
    answer = resident.last_message.text
    assert "廖志强" in answer and "12345" in answer
    assert "170" not in answer  # 廖志强's own number stays private


async def test_a_photo_without_words_joins_the_residents_open_case(telegram_world: TelegramWorld):
    world = telegram_world
    resident = await register_by_location(world)
    await resident.says("单元门口的水管爆了")
    await world.drain()
    case = only_case(world.services)
    await resident.sends_photo(file_id="more-water")
    await world.drain()
    assert only_case(world.services).id == case.id
    assert case.ref in resident.last_message.text
    with world.services.db.session() as session:
        events = session.exec(select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.kind == "media")).all()
    assert [e.data["media"][0]["file_id"] for e in events] == ["more-water"]


async def test_a_residents_bot_and_a_staff_bot_each_carry_their_side(make_telegram_world):
    world = await make_telegram_world(
        audience="residents",
        other_bots={"staff": {"token": "100002:TEST-staff-bot", "secret_token": "staff-s3cret", "audience": "staff"}},
    )
    staff_token = world.other_bots["staff"].token
    assert set(world.fake.webhooks) == {world.token, staff_token}
    resident = await register_by_location(world)
    leader = world.person(LIAO_ZHIQIANG, "志强", bot="staff")
    await resident.says("楼道里有一股煤气味")
    await world.drain()
    assert {c.token for c in world.fake.calls_of("sendMessage", chat_id=leader.chat_id)} == {staff_token}
    assert {c.token for c in world.fake.calls_of("sendMessage", chat_id=resident.chat_id)} == {world.token}

    await leader.taps("接单")
    await world.drain()
    assert only_case(world.services).status == "acknowledged"
    assert "廖志强" in resident.last_message.text


async def test_a_report_given_when_asked_for_the_address_is_filed_not_refused_as_an_address(
    telegram_world: TelegramWorld,
):
    """「在吗」 asks for the address; the resident answers with the emergency instead. It is a report."""
    world = telegram_world
    resident = world.person(8100000009, "桂芳", last_name="刘")
    await resident.says("在吗")
    await world.drain()
    await resident.says("电梯里困住人了快来人")
    await world.drain()
    case = only_case(world.services)
    assert case.category == "elevator" and case.priority == "emergency"
    assert case.ref in "\n".join(m.text for m in resident.inbox)
    assert "没有在网格地址库里找到" not in "\n".join(m.text for m in resident.inbox)

    await resident.says("长椿路14号院1号楼")
    await world.drain()
    case = only_case(world.services)
    assert case.grid_code == GX01_01_2, "the address that follows moves the case to the resident's grid"


async def test_a_mistyped_address_is_still_asked_again(telegram_world: TelegramWorld):
    world = telegram_world
    resident = world.person(8100000010, "军", last_name="赵")
    await resident.says("/start")
    await resident.says("长椿路")
    await world.drain()
    assert "没有在网格地址库里找到" in resident.last_message.text
    assert cases(world.services) == []


async def test_a_resident_known_by_a_shared_location_is_paged_with_that_point(telegram_world: TelegramWorld):
    """Without a typed address the page said 地点：<the grid's name> again; the leader needs the point."""
    world = telegram_world
    resident = await register_by_location(world)
    leader = world.person(LIAO_ZHIQIANG, "志强")
    await resident.says("俺们楼从昨天就停水了，咋弄")
    await world.drain()
    page = leader.last_with_button("接单")
    assert "地点：34.80300,113.55450" in page.text
