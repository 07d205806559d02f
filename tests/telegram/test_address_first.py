"""A resident who sends only an address has said where, not what is wrong: asked, then filed there.

「红松路30号院3号楼2单元」 alone was filed as a case in whatever category the address's characters
resembled (a road's name reads like 道路设施). Now the conversation keeps the address, asks what the
problem is, and files the next message's problem at that address.
"""

from __future__ import annotations

from gridline.i18n import t
from tests.telegram.conftest import TelegramWorld
from tests.telegram.support import cases, only_case
from tests.telegram.test_conversations import GX01_01_2, register_by_location


async def test_an_address_alone_is_kept_and_the_problem_asked_then_filed_there(telegram_world: TelegramWorld):
    world = telegram_world
    resident = await register_by_location(world, 8100000101, "秀兰")

    await resident.says("红松路30号院3号楼2单元")
    await world.drain()
    assert cases(world.services) == [], "an address is not a problem"
    assert resident.last_message.text == t("conversation.ask_problem", "zh-CN", place="红松路30号院3号楼2单元")

    await resident.says("停水了")
    await world.drain()
    case = only_case(world.services)
    assert case.category == "water_supply"
    assert case.address_text is not None and "红松路30号院" in case.address_text
    assert case.grid_code == GX01_01_2
    assert case.ref in resident.last_message.text


async def test_a_greeting_and_an_address_from_someone_not_registered_files_in_that_addresss_grid(
    telegram_world: TelegramWorld,
):
    """Nobody asked where they live: the address is the report's place, and it decides the grid."""
    world = telegram_world
    resident = world.person(8100000102, "国强", last_name="孙")

    await resident.says("你好，桐柏路199号院")
    await world.drain()
    assert cases(world.services) == []
    assert resident.last_message.text == t("conversation.ask_problem", "zh-CN", place="桐柏路199号院")

    await resident.says("停水了")
    await world.drain()
    case = only_case(world.services)
    assert case.category == "water_supply"
    assert case.grid_code == "ZY01-01-1" and case.address_text is not None and "桐柏路199号院" in case.address_text


async def test_the_problem_asked_is_answered_once_the_next_report_is_filed(telegram_world: TelegramWorld):
    """The address is for the report that follows it, not for every report after."""
    world = telegram_world
    resident = await register_by_location(world, 8100000103, "红梅")
    await resident.says("桐柏路199号院")
    await resident.says("停水了")
    await resident.says("小区门口的路灯坏了好几天了")
    await world.drain()
    water, light = sorted(cases(world.services), key=lambda c: c.id)
    assert water.category == "water_supply" and water.grid_code == "ZY01-01-1"
    assert light.category == "road_facility" and light.grid_code == GX01_01_2, "filed where the resident lives"


async def test_an_address_the_directory_cannot_place_is_not_asked_for_again_as_if_never_given(
    telegram_world: TelegramWorld,
):
    """「为了找到您所在的网格，请…告诉我您的住址」 right after the resident gave one reads as if nobody
    listened: the answer says the address was not found and what would place it."""
    world = telegram_world
    resident = world.person(8100000104, "国庆", last_name="孙")
    await resident.says("红松路12号3单元")  # 红松路 has no number 12 in the directory
    await resident.says("电梯坏了，老人下不了楼")
    await world.drain()
    case = only_case(world.services)
    assert case.grid_code is None and case.address_text == "红松路12号3单元"
    assert resident.last_message.text == t("registration.address_not_found", "zh-CN")
    assert t("registration.ask_location", "zh-CN") not in resident.texts


async def test_an_english_address_the_directory_cannot_place_is_answered_as_an_address_not_a_detail(
    telegram_world: TelegramWorld,
):
    """「Mars Road 8」 after "tell me your address" is an address, whatever a road's name reads like to
    the model: the resident is told it was not found, not that it was added to the report."""
    world = telegram_world
    resident = world.person(8100000105, "Ann", language_code="en")
    await resident.says("There is a strong gas smell in my stairwell")
    await world.drain()
    case = only_case(world.services)
    assert case.grid_code is None

    for address in ("Mars Road 8", "Kexue Avenue 100, building 3"):
        await resident.says(address)
        await world.drain()
        assert resident.last_message.text == t("registration.address_not_found", "en"), address
    assert only_case(world.services).report_count == 1


async def test_an_english_address_in_the_directory_places_the_waiting_report(telegram_world: TelegramWorld):
    world = telegram_world
    resident = world.person(8100000106, "Ben", language_code="en")
    await resident.says("There is a strong gas smell in my stairwell")
    await resident.says("Tongbai Road 199, building 3")
    await world.drain()
    case = only_case(world.services)
    assert case.grid_code == "ZY01-01-1"
