"""What a resident reads in the chat, on python-telegram-bot and on aiogram alike: small talk while we
wait for their address, following up on their own case, and commands meant for staff."""

from __future__ import annotations

import re
from typing import Any

from tests.telegram.conftest import TelegramWorld
from tests.telegram.support import cases, inbound_messages, only_case

INSIDE_GX01_01_2 = (34.8030, 113.5545)  # 红松路30号院, 高新花园 — leader 廖志强
NOT_FOUND = "没有在网格地址库里找到"
ASK_ADDRESS = "请发送您的位置，或告诉我您的住址"


async def settle_in(world: TelegramWorld, person: Any) -> None:
    """/start, then the resident's location inside GX01-01-2: a resident with a known grid."""
    await person.says("/start")
    await person.shares_location(*INSIDE_GX01_01_2)
    await world.drain()


async def elevator_reported(world: TelegramWorld, user_id: int):
    """A resident (王建国, settled in a grid) reports 电梯坏了; the on-duty leader 志强 is paged."""
    resident = world.person(user_id, "建国", last_name="王")
    leader = world.person(7000000002, "志强")
    await settle_in(world, resident)
    await resident.says("电梯坏了")
    await world.drain()
    return resident, leader


async def test_a_greeting_or_thanks_after_start_is_answered_not_refused_as_an_address(
    telegram_world: TelegramWorld,
):
    """/start asks for the address; 「你好」 and 「谢谢」 are small talk, not a mistyped address."""
    world = telegram_world
    resident = world.person(8100000301, "秀兰", last_name="孙")
    await resident.says("/start")
    await world.drain()
    asked = len(resident.inbox)

    await resident.says("你好")
    await world.drain()
    greeting = [m.text for m in resident.inbox[asked:]]
    assert any("您好" in text for text in greeting), greeting
    assert not any(NOT_FOUND in text for text in greeting), greeting
    assert ASK_ADDRESS in greeting[-1], "the address question stays open"

    asked = len(resident.inbox)
    await resident.says("谢谢")
    await world.drain()
    thanked = [m.text for m in resident.inbox[asked:]]
    assert any("不客气" in text for text in thanked), thanked
    assert not any(NOT_FOUND in text for text in thanked), thanked
    assert ASK_ADDRESS in thanked[-1], "the address question stays open"

    await resident.says("桐柏路199号院3号楼")
    await world.drain()
    assert "龙小燕" in resident.last_message.text, "the address that follows still registers the resident"
    assert cases(world.services) == []


async def test_a_resident_following_up_on_their_own_case_is_not_counted_as_a_second_reporter(
    telegram_world: TelegramWorld,
):
    """「电梯什么时候能修好？」 from the one who reported the lift is a follow-up of their own case:
    not 「已有人反映过……已有 2 人反映」."""
    world = telegram_world
    resident = world.person(8100000302, "建国", last_name="王")
    await settle_in(world, resident)
    await resident.says("电梯坏了")
    await world.drain()
    case = only_case(world.services)

    await resident.says("电梯什么时候能修好？")
    await world.drain()
    follow_up = resident.last_message.text
    assert case.ref in follow_up
    assert "已有人反映" not in follow_up and "2 人" not in follow_up, follow_up
    assert only_case(world.services).report_count == 1

    neighbour = world.person(8100000303, "桂英", last_name="贺")
    await settle_in(world, neighbour)
    await neighbour.says("电梯坏了，一直不动")
    await world.drain()
    assert "已有 2 人反映" in neighbour.last_message.text, "a second resident is still counted"
    await neighbour.says("电梯还是不动")
    await world.drain()
    assert "已有人反映" not in neighbour.last_message.text, "…and only once"
    assert only_case(world.services).report_count == 2


async def test_repeated_reports_of_an_unplaced_resident_are_not_told_others_reported_them(
    telegram_world: TelegramWorld,
):
    """Reports merged into one triage case (the cap per sender) are all the same person's."""
    world = telegram_world
    resident = world.person(8100000304, "陌生人")
    await resident.says("停电了，整栋楼都黑了")
    await world.drain()
    await resident.sends_photo("楼道里堆满了垃圾")
    await world.drain()
    await resident.says("下水道也堵了")
    await world.drain()
    said = "\n".join(resident.texts)
    assert "已有人反映" not in said and "人反映" not in said, said


async def test_staff_commands_from_a_resident_get_a_clear_answer_not_the_welcome(telegram_world: TelegramWorld):
    """BotFather's menu shows every command to everyone: /cases (「我的工单」) lists a resident's own
    cases; /duty and /visits say they are for staff instead of welcoming the resident back."""
    world = telegram_world
    resident = world.person(8100000305, "建国", last_name="王")
    await settle_in(world, resident)
    await resident.says("电梯坏了")
    await world.drain()
    case = only_case(world.services)

    await resident.says("/cases")
    await world.drain()
    assert case.ref in resident.last_message.text, resident.last_message.text

    for command in ("/duty", "/visits", "/accept"):
        await resident.says(command)
        await world.drain()
        answer = resident.last_message.text
        assert "工作人员" in answer and "您登记在" not in answer, (command, answer)


async def test_lang_switches_a_staff_members_language(telegram_world: TelegramWorld):
    """/lang is in the menu for everyone; for staff it switched nothing and answered the help text."""
    world = telegram_world
    leader = world.person(7000000002, "志强")
    await leader.says("/lang")
    await world.drain()
    assert leader.last_message.text == "Language set to English."
    await leader.says("/cases")
    await world.drain()
    assert leader.last_message.text.startswith("You have no open cases") or "Your open cases" in (
        leader.last_message.text
    ), leader.last_message.text
    await leader.says("/lang")
    await world.drain()
    assert leader.last_message.text == "已切换为中文。"


async def test_a_button_of_a_question_already_answered_in_words_says_so(telegram_world: TelegramWorld):
    """「解决了，谢谢」 and 「5」 typed instead of tapped leave the buttons on the questions; a late tap
    on them said 「现在还不能评价」 (not yet) about a case that was closed and rated."""
    world = telegram_world
    resident, leader = await elevator_reported(world, 8100000306)
    await leader.taps("已解决")
    await world.drain()
    solved_question = resident.last_with_button("是，解决了")
    await resident.says("解决了，谢谢")
    await world.drain()
    stars = resident.last_with_button("★★★★★")
    await resident.says("5")
    await world.drain()
    case = only_case(world.services)
    assert case.status == "closed" and case.rating == 5

    await resident.taps("★★", stars)
    await world.drain()
    late = resident.last_message.text
    assert "还不能" not in late and "已经" in late and case.ref in late, late
    await resident.taps("没有解决", solved_question)
    await world.drain()
    late = resident.last_message.text
    assert "评价" not in late or "已经" in late, late
    assert "还不能" not in late and case.ref in late, late
    case = only_case(world.services)
    assert case.status == "closed" and case.rating == 5, "a late tap changes nothing"


async def test_a_working_day_deadline_on_the_page_ends_at_24_00_of_its_last_day(telegram_world: TelegramWorld):
    """「限时 12月8日 00:00（3个工作日）」 read as a day more than the limit gives: it is the end of 12月7日."""
    world = telegram_world
    _, leader = await elevator_reported(world, 8100000307)
    page = leader.last_with_button("接单").text
    assert re.search(r"限时 \d+月\d+日 24:00（3个工作日）", page), page
    assert "日 00:00" not in page, page


async def test_the_grid_is_named_once_not_followed_by_another_网格(telegram_world: TelegramWorld):
    """Grid names end in 网格 (「莲花社区第二网格（…）」): 「您属于「…网格（…）」网格」 said it twice."""
    world = telegram_world
    resident = world.person(8100000308, "建国", last_name="王")
    await settle_in(world, resident)
    await resident.says("/start")
    await world.drain()
    said = "\n".join(resident.texts)
    assert "莲花社区第二网格" in said
    assert "」网格" not in said, said


async def test_a_residents_reply_to_the_leaders_message_stays_on_the_case(telegram_world: TelegramWorld):
    """The leader writes 「下午三点派人去看」 through the page; the resident answers it with Telegram's
    reply. That answer opened a new case (「已记录，工单号 …。请问是哪类问题？」) and paged again.
    Now it is passed on to the leader (居民补充, not a page) — and the leader never got it at all."""
    world = telegram_world
    resident, leader = await elevator_reported(world, 8100000309)
    await leader.taps("接单")
    await world.drain()
    page = leader.last_with_button("已解决")
    await leader.says("您好，我们下午三点派人去看电梯", reply_to=page)
    await world.drain()
    relayed = resident.last_message
    assert "下午三点" in relayed.text
    pages_before = len(world.fake.calls_of("sendMessage", chat_id=leader.chat_id))

    await resident.says("好的，我下午三点在家等着", reply_to=relayed)
    await world.drain()
    case = only_case(world.services)
    answer = resident.last_message.text
    assert case.ref in answer and "请问是哪类问题" not in answer, answer
    assert "已转告处理人" in answer, answer
    assert case.report_count == 1
    [told] = world.fake.calls_of("sendMessage", chat_id=leader.chat_id)[pages_before:]
    assert told.params["text"].startswith(f"【居民补充】工单 {case.ref}：好的，我下午三点在家等着"), "not paged again"
    assert "回复本消息或派单消息" in told.params["text"], "how to answer: reply to this message or the page"
    said = [m for m in inbound_messages(world.services) if m.text == "好的，我下午三点在家等着"]
    assert said and said[0].case_id == case.id, "the answer is on the case's log"


async def test_the_leaders_reply_to_the_residents_added_words_reaches_the_resident(telegram_world: TelegramWorld):
    """The leader replies (Telegram's reply) to 【居民补充】 rather than to the page: that got the staff
    help text and the resident heard nothing. It is relayed exactly as a reply to the page is."""
    world = telegram_world
    resident, leader = await elevator_reported(world, 8100000312)
    await leader.taps("接单")
    await world.drain()
    await leader.says("请问是几号楼几单元？", reply_to=leader.last_with_button("已解决"))
    await world.drain()
    await resident.says("3号楼2单元", reply_to=resident.last_message)
    await world.drain()
    case = only_case(world.services)
    added = leader.last_message
    assert added.text.startswith(f"【居民补充】工单 {case.ref}：3号楼2单元"), added.text
    assert "回复本消息" in added.text, "the text says a reply to it is answered"

    await leader.says("好的，半小时内到", reply_to=added)
    await world.drain()
    relayed = resident.last_message.text
    assert "好的，半小时内到" in relayed and "廖志强" in relayed and case.ref in relayed, relayed
    assert leader.last_message.text == f"已转告居民（工单 {case.ref}）。", leader.last_message.text
    assert only_case(world.services).report_count == 1


async def test_status_with_a_reference_answers_that_case_for_staff_who_may_see_it(telegram_world: TelegramWorld):
    """`/status W4RGMD` (docs/telegram.md) listed a staff member's open cases and ignored the reference."""
    world = telegram_world
    _, leader = await elevator_reported(world, 8100000310)
    case = only_case(world.services)

    await leader.says(f"/status {case.ref}")
    await world.drain()
    answer = leader.last_message.text
    assert answer.startswith(f"工单 {case.ref}（电梯）") and "办理时限" in answer, answer

    await leader.says("/status ZZZZZ9")
    await world.drain()
    assert "ZZZZZ9" in leader.last_message.text and "没有找到" in leader.last_message.text

    other = world.person(7000000005, "思远")  # 钟思远 leads GX01-02-2: not his grid, never paged
    await other.says(f"/status {case.ref}")
    await world.drain()
    assert "电梯" not in other.last_message.text and "没有找到" in other.last_message.text


async def test_a_deep_link_start_parameter_that_is_no_link_code_welcomes_the_resident(
    telegram_world: TelegramWorld,
):
    """A poster's QR code opens the bot as `/start tongbai_poster`: that is a resident's first contact,
    not a staff member's mistyped link code (「绑定码不对」)."""
    world = telegram_world
    resident = world.person(8100000311, "秀英", last_name="李")
    await resident.says("/start tongbai_poster")
    await world.drain()
    said = "\n".join(resident.texts)
    assert "绑定码" not in said and "有事找网格长" in said and ASK_ADDRESS in said, said

    staff_typo = world.person(8100000312, "新同事")
    await staff_typo.says("/start ABCDEFGHJK")
    await world.drain()
    assert "绑定码不对" in staff_typo.last_message.text


async def test_a_residents_ok_or_thanks_in_reply_to_the_leaders_words_is_kept_on_the_case(
    telegram_world: TelegramWorld,
):
    """「好的」 or 「谢谢」, as Telegram's reply to the leader's relayed words, is small talk — answered as
    such — and an answer to the leader: it belongs on the case's log (the console's timeline), where it
    was missing (filed on no case)."""
    world = telegram_world
    resident, leader = await elevator_reported(world, 8100000311)
    await leader.taps("接单")
    await world.drain()
    await leader.says("您好，我们下午三点派人去看电梯", reply_to=leader.last_with_button("已解决"))
    await world.drain()
    relayed = resident.last_message
    for words in ("好的", "谢谢"):
        await resident.says(words, reply_to=relayed)
        await world.drain()
    case = only_case(world.services)
    assert case.report_count == 1 and "不客气" in resident.last_message.text
    said = {m.text: m.case_id for m in inbound_messages(world.services) if m.text in ("好的", "谢谢")}
    assert said == {"好的": case.id, "谢谢": case.id}, said
