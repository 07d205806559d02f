"""The SMS hotline end to end, as scripts: real webhooks, the real twilio client, the fake Twilio."""

from __future__ import annotations

import re

import pytest
from sqlmodel import select

from gridline.bots.twilio.sms_text import segments
from gridline.storage.models import Message, Resident
from tests.conftest import BACKENDS
from tests.twilio.conftest import LI_XIUYING, LONG_XIAOYAN, VOICE_NUMBER, YAO_XIAOYAN, ZHAO_DEMING, TwilioWorld


def code_in(text: str) -> str:
    match = re.search(r"回复(\d+)", text)
    assert match, f"no reply code in {text!r}"
    return match.group(1)


@pytest.mark.parametrize("world", BACKENDS, indirect=True)
async def test_resident_texts_leader_acknowledges_by_code_resident_is_told(world: TwilioWorld) -> None:
    world.prefer_channels("LDR-ZY01-01-1", "sms", "voice", "web")
    resident, leader = world.phone(LI_XIUYING), world.phone(LONG_XIAOYAN)

    answer = await resident.text("俺们楼从昨天就没水了咋弄")
    assert answer.status_code == 200 and "<Response" in answer.text
    await world.settle()

    received = resident.expect_sms("龙小燕")
    ref = world.cases()[-1].ref
    assert ref in received.body
    page = leader.expect_sms("回复")
    code = code_in(page.body)
    assert segments(page.body) == segments(received.body) == 1  # one SMS each, not a split text

    await leader.reply(code)
    await world.settle()

    assert "接单" in leader.expect_sms(ref).body or ref in page.body
    resident.expect_sms("龙小燕", "接单")
    case = world.case(ref)
    assert case.status == "acknowledged"
    assert case.acknowledged_by == world.staff("LDR-ZY01-01-1").id


async def test_the_same_message_delivered_twice_makes_one_case_and_one_answer(world: TwilioWorld) -> None:
    resident = world.phone(LI_XIUYING)
    first = await resident.text("桐柏路199号院停水了", sid="SM" + "d" * 32)
    again = await resident.text("桐柏路199号院停水了", sid="SM" + "d" * 32)
    assert first.status_code == again.status_code == 200
    await world.settle()
    assert len(world.cases()) == 1
    assert len(world.inbox()) == 1
    resident.expect_sms("已受理")
    resident.expect_no_sms()


async def test_status_callbacks_out_of_order_never_move_backwards(world: TwilioWorld) -> None:
    world.prefer_channels("LDR-ZY01-01-1", "sms", "voice", "web")
    world.fake.out_of_order = True  # every "delivered" arrives before its "sent"
    await world.phone(LI_XIUYING).text("桐柏路199号院停水了")
    await world.settle()

    page_sms = world.phone(LONG_XIAOYAN).expect_sms("回复")
    assert page_sms.callbacks_sent == ["delivered", "sent"]
    (page,) = world.pages()
    assert (page.status, page.provider_status) == ("delivered", "delivered")
    reply = world.phone(LI_XIUYING).expect_sms("已受理")
    assert world.message_status(reply.sid) == "delivered"


async def test_an_undelivered_sms_page_moves_to_the_leaders_next_channel(world: TwilioWorld) -> None:
    world.prefer_channels("LDR-ZY01-01-1", "sms", "voice", "web")
    world.fake.sms_outcomes[LONG_XIAOYAN] = "undelivered"
    world.fake.call_outcomes[LONG_XIAOYAN] = "no-answer"
    await world.phone(LI_XIUYING).text("桐柏路199号院停水了")
    await world.settle()

    sms_page, call_page, web_page = world.pages()[:3]
    assert (sms_page.channel, sms_page.status) == ("sms", "failed")
    assert "30003" in (sms_page.error or "")
    assert (call_page.channel, call_page.status) == ("voice", "failed")
    assert world.fake.calls_to(LONG_XIAOYAN)[0].status == "no-answer"
    assert (web_page.channel, web_page.staff_id) == ("web", sms_page.staff_id)


async def test_a_stale_code_gets_an_explicit_answer(world: TwilioWorld) -> None:
    """龙小燕 does not answer; after 15 minutes the backup 姚晓燕 is paged and takes the case. When
    龙小燕 replies later, she is told who has it; codes that never existed are called unknown."""
    world.prefer_channels("LDR-ZY01-01-1", "sms", "voice", "web")
    leader, backup = world.phone(LONG_XIAOYAN), world.phone(YAO_XIAOYAN)
    await world.phone(LI_XIUYING).text("桐柏路199号院停水了")
    await world.settle()
    leader_code = code_in(leader.expect_sms("回复").body)

    world.clock.advance(minutes=16)
    await world.settle()
    backup_code = code_in(backup.expect_sms("回复").body)
    await backup.reply(backup_code)
    await world.settle()
    backup.expect_sms("接单")

    await leader.reply(leader_code)
    await world.settle()
    leader.expect_sms("姚晓燕")

    await leader.reply("57")
    await world.settle()
    leader.expect_sms("57", "未找到")


async def test_a_resolved_case_answers_that_it_is_closed(world: TwilioWorld) -> None:
    world.prefer_channels("LDR-ZY01-01-1", "sms", "voice", "web")
    leader = world.phone(LONG_XIAOYAN)
    await world.phone(LI_XIUYING).text("桐柏路199号院停水了")
    await world.settle()
    code = code_in(leader.expect_sms("回复").body)
    await leader.reply(f"{code}r")
    await world.settle()
    ref = world.cases()[-1].ref
    leader.expect_sms(ref, "解决")
    assert world.case(ref).status == "resolved"
    world.phone(LI_XIUYING).expect_sms("已受理")
    world.phone(LI_XIUYING).expect_sms("解决了吗", "回复1", "回复2")  # asked whether it is really solved

    await leader.reply(code)
    await world.settle()
    leader.expect_sms(ref)
    assert world.case(ref).status == "resolved"


@pytest.mark.parametrize("world", ["sqlite", "postgres"], indirect=True)
async def test_the_resident_confirms_by_sms_then_rates_or_reopens_it_to_level_two(world: TwilioWorld) -> None:
    world.prefer_channels("LDR-ZY01-01-1", "sms", "voice", "web")
    world.prefer_channels("L2-ZY01-01", "sms", "web")
    leader, resident = world.phone(LONG_XIAOYAN), world.phone(LI_XIUYING)
    level2 = world.phone("+8617000000040")  # 侯霞, level-2 contact of 桐柏社区

    await resident.text("桐柏路199号院停水了")
    await world.settle()
    code = code_in(leader.expect_sms("回复").body)
    await leader.reply(f"{code}r")
    await world.settle()
    ref = world.cases()[-1].ref
    resident.expect_sms("解决了吗")
    await resident.reply("1")  # yes
    await world.settle()
    resident.expect_sms("打分", "★")
    await resident.reply("4")
    await world.settle()
    assert (world.case(ref).status, world.case(ref).rating) == ("closed", 4)

    await resident.text("桐柏路199号院又停水了，楼上楼下都没水")
    await world.settle()
    second = world.cases()[-1].ref
    assert second != ref
    code = code_in(leader.expect_sms("回复").body)
    await leader.reply(f"{code}r")
    await world.settle()
    resident.expect_sms("解决了吗", second)
    await resident.reply("2")  # not solved
    await world.settle()
    assert world.case(second).status == "paged"
    resident.expect_sms(second, "侯霞")
    page = level2.expect_sms("未解决", "回复")  # paged at once, told why
    await level2.reply(code_in(page.body))
    await world.settle()
    assert world.case(second).status == "acknowledged"


async def test_a_bare_a_acknowledges_the_latest_of_two_open_pages(world: TwilioWorld) -> None:
    world.prefer_channels("LDR-ZY01-01-1", "sms", "voice", "web")
    leader = world.phone(LONG_XIAOYAN)
    await world.phone(LI_XIUYING).text("桐柏路199号院停水了")
    await world.settle()
    await world.phone(ZHAO_DEMING).text("桐柏路199号院门口的路灯坏了好几天了")
    await world.settle()
    first, second = world.cases()
    assert code_in(leader.expect_sms("回复1").body) == "1"
    assert code_in(leader.expect_sms("回复2").body) == "2"

    await leader.reply("a")
    await world.settle()

    assert world.case(second.ref).status == "acknowledged"
    assert world.case(first.ref).status == "paged"
    leader.expect_sms(second.ref)


async def test_escalate_by_text_pages_the_next_step_now(world: TwilioWorld) -> None:
    world.prefer_channels("LDR-ZY01-01-1", "sms", "voice", "web")
    leader, backup = world.phone(LONG_XIAOYAN), world.phone(YAO_XIAOYAN)
    await world.phone(LI_XIUYING).text("桐柏路199号院停水了")
    await world.settle()
    code = code_in(leader.expect_sms("回复").body)
    await leader.reply(f"上报{code}")
    await world.settle()
    backup.expect_sms("回复")  # no fifteen-minute wait


async def test_the_stop_reply_names_the_voice_hotline_when_it_is_another_number(world: TwilioWorld) -> None:
    """「拨打本号码仍可反映问题」 is only true when the SMS and voice hotlines are one number; here the
    voice hotline is VOICE_NUMBER, so the confirmation says which number to call."""
    resident = world.phone(LI_XIUYING)
    await resident.text("退订")
    await world.settle()
    body = resident.expect_sms("退订", "订阅").body
    assert "本号码" not in body and f"拨打 {VOICE_NUMBER}" in body, body


async def test_stop_is_respected_until_start(world: TwilioWorld) -> None:
    world.prefer_channels("LDR-ZY01-01-1", "sms", "voice", "web")
    resident, leader = world.phone(LI_XIUYING), world.phone(LONG_XIAOYAN)
    await resident.text("退订")
    await world.settle()
    resident.expect_sms("退订", "订阅")

    # Still heard: the report is a case and the leader is paged — the resident just gets no texts.
    await resident.text("桐柏路199号院停水了")
    await world.settle()
    (case,) = world.cases()
    await leader.reply(code_in(leader.expect_sms("回复").body))
    await world.settle()
    assert world.case(case.ref).status == "acknowledged"
    resident.expect_no_sms()

    await resident.text("START")
    await world.settle()
    resident.expect_sms("恢复")
    await resident.text("状态")
    await world.settle()
    resident.expect_sms(case.ref)


@pytest.mark.parametrize("world", [b for b in BACKENDS if b == "postgres"], indirect=True)
async def test_the_stop_confirmation_goes_out_from_another_worker_without_redis(world: TwilioWorld) -> None:
    """PostgreSQL without Redis, two workers: one processes the STOP, the other sends its
    confirmation. What lets that one text reach a number that just opted out is on the message's
    row (its kind), not in the memory of the process that processed the STOP."""
    from gridline.composition import build_services, install_channels
    from gridline.core.inbox import process_inbound

    resident = world.phone(LI_XIUYING)
    await resident.text("退订")
    [event] = world.inbox()
    assert await process_inbound(world.services, event.id or 0) == "processed"  # the first worker
    other = build_services(world.services.settings, world.clock)  # the second worker's process
    try:
        install_channels(other)
        assert await other.jobs.run_due(other.handlers) >= 1
        await world.fake.settle()
    finally:
        await other.aclose()
    resident.expect_sms("退订", "订阅")


async def test_automatic_replies_to_a_number_are_capped_per_hour(world: TwilioWorld) -> None:
    """Another robot answering every text with a text must not make Gridline text forever."""
    robot = world.phone("+8613912345678")
    cap = world.services.settings.twilio.max_auto_replies_per_hour
    for _ in range(cap + 5):
        await robot.text("您好，您的短信已收到，谢谢。")
        await world.settle()
    assert len(world.fake.messages_to(robot.number)) == cap
    assert len(world.inbox()) == cap + 5  # everything it sent is still stored

    world.clock.advance(hours=1, minutes=1)
    await robot.text("您好，您的短信已收到，谢谢。")
    await world.settle()
    assert len(world.fake.messages_to(robot.number)) > cap


async def test_an_unknown_number_is_asked_for_its_address(world: TwilioWorld) -> None:
    stranger = world.phone("+8613700000009")
    await stranger.text("停水了，一点水都没有")
    await world.settle()
    stranger.expect_sms("住址")
    (case,) = world.cases()
    assert case.grid_code is None  # triage until we know where

    await stranger.text("桐柏路199号院")
    await world.settle()
    assert world.case(case.ref).grid_code == "ZY01-01-1"


async def test_words_after_a_code_are_passed_on_to_the_resident(world: TwilioWorld) -> None:
    world.prefer_channels("LDR-ZY01-01-1", "sms", "voice", "web")
    resident, leader = world.phone(LI_XIUYING), world.phone(LONG_XIAOYAN)
    await resident.text("桐柏路199号院停水了")
    await world.settle()
    resident.expect_sms("已受理")
    code = code_in(leader.expect_sms("回复").body)

    await leader.reply(f"{code} 已联系自来水公司，下午两点前恢复")
    await world.settle()

    resident.expect_sms("已联系自来水公司，下午两点前恢复")
    leader.expect_sms("已转告")


async def test_leaders_texts_are_kept_in_the_conversation_log(world: TwilioWorld) -> None:
    world.prefer_channels("LDR-ZY01-01-1", "sms", "voice", "web")
    leader = world.phone(LONG_XIAOYAN)
    await world.phone(LI_XIUYING).text("桐柏路199号院停水了")
    await world.settle()
    code = code_in(leader.expect_sms("回复").body)
    await leader.reply(f"ack {code}")
    await world.settle()
    with world.services.db.session() as session:
        texts = session.exec(
            select(Message.text).where(Message.sender_kind == "staff", Message.direction == "in")
        ).all()
    assert texts == [f"ack {code}"]


async def test_a_stranger_who_texts_in_english_is_answered_in_english(world: TwilioWorld) -> None:
    stranger = world.phone("+8617000099001")
    await stranger.text("Hello, the street light outside my building has been broken for days")
    await world.settle()
    answer = stranger.expect_sms("address")
    assert not re.search("[\u4e00-\u9fff]{4}", answer.body.replace("桐柏", "")), answer.body


async def test_a_stranger_who_texts_in_chinese_is_answered_in_chinese(world: TwilioWorld) -> None:
    stranger = world.phone("+8617000099002")
    await stranger.text("你好，楼下路灯坏了好几天了")
    await world.settle()
    stranger.expect_sms("住址")


async def test_news_of_the_residents_own_case_does_not_use_up_the_reply_cap(world: TwilioWorld) -> None:
    """Acknowledged and 解决了吗？ follow what staff did; counting them left a resident who had been
    kept informed without the reference of their next report."""
    world.services.settings.twilio.max_auto_replies_per_hour = 2
    world.prefer_channels("LDR-ZY01-01-1", "sms", "voice", "web")
    resident, leader = world.phone(LI_XIUYING), world.phone(LONG_XIAOYAN)
    await resident.text("俺们楼从昨天就没水了咋弄")
    await world.settle()
    resident.expect_sms("已受理")  # reply 1
    code = code_in(leader.expect_sms("回复").body)
    for command in (code, f"{code}r"):  # acknowledged, then resolved: two notices
        await leader.reply(command)
        await world.settle()
    resident.expect_sms("接单")
    resident.expect_sms("解决了吗")
    await resident.text("楼道灯坏了好几天了，晚上看不见")
    await world.settle()
    resident.expect_sms("工单")  # reply 2: the new report's reference still arrives


async def test_an_english_case_confirmation_by_sms_is_its_sms_wording_in_two_segments(world: TwilioWorld) -> None:
    """The typed English confirmation with a Chinese name and grid can take three UCS-2 segments; the
    SMS says it shorter (docs/twilio.md), and the stored row keeps the key and the typed text."""
    with world.services.db.session() as session:
        for resident_row in session.exec(select(Resident).where(Resident.phone == LI_XIUYING)):
            resident_row.lang = "en"
            session.add(resident_row)
        session.commit()
    resident = world.phone(LI_XIUYING)
    await resident.text("桐柏路199号院停水了")
    await world.settle()
    received = resident.expect_sms("grid leader of")
    ref = world.cases()[-1].ref
    assert f"ref {ref}" in received.body and "is notified and will contact you." in received.body
    assert segments(received.body) <= 2
    with world.services.db.session() as session:
        stored = session.exec(select(Message).where(Message.text_key == "case.created")).one()
    assert f"reference {ref}" in (stored.text or "")  # the console shows the typed wording


async def test_a_stranger_writing_english_around_a_chinese_address_is_answered_in_english(world: TwilioWorld) -> None:
    stranger = world.phone("+8613700000011")
    await stranger.text("There is no water at 颍河路56号院 building 2")
    await world.settle()
    reply = stranger.expect_sms("Received", "ref")  # it was 已受理…: one Chinese address made it Chinese
    assert "已受理" not in reply.body


async def test_a_stranger_asking_for_the_grid_leader_is_registered_by_the_address_they_give(
    world: TwilioWorld,
) -> None:
    """"还不知道您住在哪个网格…告诉我您的住址" is a question: the answer is the address, not a report."""
    stranger = world.phone("+8613700000019")
    await stranger.text("谁是我的网格长")
    await world.settle()
    stranger.expect_sms("住址")

    await stranger.text("桐柏路199号院5号楼")
    await world.settle()
    stranger.expect_sms("龙小燕")  # registered: the grid and its leader
    assert world.cases() == []
    with world.services.db.session() as session:
        resident = session.exec(select(Resident).where(Resident.phone == stranger.number)).one()
    assert resident.grid_code == "ZY01-01-1"
