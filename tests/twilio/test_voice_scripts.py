"""The voice hotline and pages by phone, as scripts: the fake Twilio calls, listens, speaks, presses."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from gridline.bots.twilio.voice_hotline import turns_of
from gridline.i18n import t
from gridline.storage.models import Message
from tests.conftest import BACKENDS, START
from tests.twilio.conftest import (
    LI_XIUYING,
    LONG_XIAOYAN,
    VOICE_NUMBER,
    YAO_XIAOYAN,
    TwilioWorld,
)
from tests.twilio.test_sms_scripts import code_in

THURSDAY_NIGHT = START + timedelta(hours=12)  # 22:00 in Zhengzhou: 姚晓燕 on duty


@pytest.mark.parametrize("world", BACKENDS, indirect=True)
async def test_a_caller_says_the_problem_and_hears_the_case_reference(world: TwilioWorld) -> None:
    call = await world.phone(LI_XIUYING).call()
    assert "网格热线" in call.heard and "按1" in call.heard

    await call.say("俺家从昨天就停水了，一点水都没有")

    (case,) = world.cases()
    assert case.channel == "voice" and case.category == "water_supply"
    assert case.ref in call.last_heard
    assert "龙小燕" in call.last_heard
    await world.settle()
    first_page = world.pages(case.id)[0]
    assert first_page.staff_id == world.staff("LDR-ZY01-01-1").id

    await call.stay_silent()
    assert call.ended and "再见" in call.last_heard


async def test_press_1_rings_the_leader_on_duty_now_and_a_missed_call_becomes_a_voicemail_case(
    world: TwilioWorld,
) -> None:
    world.clock.set(THURSDAY_NIGHT)
    world.prefer_channels("MBR-ZY01-01-1", "sms", "voice", "web")
    world.fake.dial_outcomes[YAO_XIAOYAN] = "no-answer"
    call = await world.phone(LI_XIUYING).call()

    await call.press("1")

    (dialled,) = call.dialled
    assert dialled.number == YAO_XIAOYAN  # the member on night duty, not the daytime leader
    assert dialled.caller_id == VOICE_NUMBER and dialled.timeout == "20"
    assert "留言" in call.last_heard

    await call.leave_voicemail(seconds=14)

    assert call.ended and "留言已收到" in call.last_heard
    (case,) = world.cases()
    assert case.ref in call.last_heard
    with world.services.db.session() as session:
        stored = session.exec(select(Message).where(Message.direction == "in", Message.channel == "voice")).all()
    voicemails = [m.media[0] for m in stored if m.media]
    assert voicemails == [
        {"kind": "voicemail", "url": world.fake.recordings[0], "duration": "14", "call_sid": call.sid}
    ]
    await world.settle()
    world.phone(YAO_XIAOYAN).expect_sms("回复")  # the page goes out anyway
    assert world.pages(case.id)


async def test_an_answered_dial_ends_the_call_without_a_case(world: TwilioWorld) -> None:
    call = await world.phone(LI_XIUYING).call()
    await call.press("1")
    assert call.dialled[0].number == LONG_XIAOYAN and call.dialled[0].outcome == "completed"
    assert call.ended and "通话结束" in call.last_heard
    assert world.cases() == []


async def test_press_2_reads_the_status_of_open_cases(world: TwilioWorld) -> None:
    await world.phone(LI_XIUYING).text("桐柏路199号院停水了")
    await world.settle()
    (case,) = world.cases()

    call = await world.phone(LI_XIUYING).call()
    await call.press("2")
    assert case.ref in call.last_heard


async def test_silence_is_met_with_prompts_then_a_goodbye_never_dead_air(world: TwilioWorld) -> None:
    call = await world.phone(LI_XIUYING).call()
    await call.stay_silent()
    assert "没有听清" in call.last_heard
    await call.press("9")
    assert "没有听清" in call.last_heard
    await call.stay_silent()
    assert call.ended and "短信" in call.last_heard
    assert world.cases() == []


async def test_the_goodbye_names_the_sms_hotline_when_it_is_not_the_number_dialled(world: TwilioWorld) -> None:
    """The SMS hotline (SMS_NUMBER) is another number than the voice hotline the caller dialled: 「发短信到
    本号码」 would send them to a number that takes no texts, so the goodbye reads the SMS number out."""
    call = await world.phone(LI_XIUYING).call()
    for _ in range(3):
        await call.stay_silent()
    assert call.ended and "本号码" not in call.last_heard
    assert "发短信到" in call.last_heard and "1 0 6 9 0 0 0 0 0 0 1" in call.last_heard, call.last_heard


async def test_an_unknown_caller_who_wants_the_leader_is_asked_for_the_address_first(world: TwilioWorld) -> None:
    call = await world.phone("+8613700000009").call()
    await call.press("1")
    assert "住址" in call.last_heard
    await call.say("桐柏路199号院")
    assert [d.number for d in call.dialled] == [LONG_XIAOYAN]


async def test_a_slow_answer_gets_a_please_wait_and_the_result_after_the_redirect(world: TwilioWorld) -> None:
    turns = turns_of(world.services)
    turns.answer_within = 0.0  # every first answer "too slow"
    turns.resume_within = 30.0
    call = await world.phone(LI_XIUYING).call()
    assert "请稍候" in call.heard and "网格热线" in call.heard

    await call.say("俺家从昨天就停水了，一点水都没有")

    (case,) = world.cases()
    assert "请稍候" in call.last_heard and case.ref in call.last_heard


async def test_twilio_retrying_a_step_gets_the_same_answer_and_one_case(world: TwilioWorld) -> None:
    # Idempotency, not latency: on a loaded machine the first answer must not become "please wait".
    turns_of(world.services).answer_within = 30.0
    call = await world.phone(LI_XIUYING).call()
    assert call.waiting is not None
    action = call.waiting[1].get("action") or ""
    params = {**call.base_params(), "SpeechResult": "俺家从昨天就停水了", "Confidence": "0.9"}

    first = await world.fake.post_signed(action, params)
    again = await world.fake.post_signed(action, params)

    assert first.status_code == again.status_code == 200
    assert first.text == again.text
    assert len(world.cases()) == 1


@pytest.mark.parametrize("world", BACKENDS, indirect=True)
async def test_a_page_by_phone_is_acknowledged_by_pressing_1(world: TwilioWorld) -> None:
    world.prefer_channels("LDR-ZY01-01-1", "voice", "sms", "web")
    await world.phone(LI_XIUYING).text("桐柏路199号院停水了")
    await world.settle()
    (case,) = world.cases()

    call = world.phone(LONG_XIAOYAN).expect_call()
    assert call.answered_by == "human"
    assert case.ref in call.heard and "桐柏路199号院" in call.heard
    assert "按1" in call.heard

    await call.press("1")
    assert "接单" in call.last_heard and call.ended
    await world.settle()

    assert world.case(case.ref).status == "acknowledged"
    (page,) = world.pages(case.id)
    assert (page.channel, page.status) == ("voice", "acknowledged")
    world.phone(LI_XIUYING).expect_sms("已受理")
    world.phone(LI_XIUYING).expect_sms("龙小燕", "接单")


async def test_a_page_by_phone_can_escalate_with_2(world: TwilioWorld) -> None:
    world.prefer_channels("LDR-ZY01-01-1", "voice", "sms", "web")
    world.prefer_channels("MBR-ZY01-01-1", "sms", "voice", "web")
    await world.phone(LI_XIUYING).text("桐柏路199号院停水了")
    await world.settle()
    call = world.phone(LONG_XIAOYAN).expect_call()
    await call.press("2")
    await world.settle()
    world.phone(YAO_XIAOYAN).expect_sms("回复")


async def test_an_answering_machine_is_not_an_acknowledgement_the_next_channel_is_tried(
    world: TwilioWorld,
) -> None:
    world.prefer_channels("LDR-ZY01-01-1", "voice", "sms", "web")
    world.fake.call_outcomes[LONG_XIAOYAN] = "machine"
    await world.phone(LI_XIUYING).text("桐柏路199号院停水了")
    await world.settle()
    (case,) = world.cases()

    call = world.phone(LONG_XIAOYAN).expect_call()
    assert call.answered_by == "machine_start" and call.ended
    assert "按1" not in call.heard  # the case was not read to a voicemail box

    voice_page, sms_page = world.pages(case.id)[:2]
    assert voice_page.status == "failed" and "machine" in (voice_page.error or "")
    assert sms_page.channel == "sms"
    world.phone(LONG_XIAOYAN).expect_sms("回复")
    assert world.case(case.ref).status == "paged"


async def test_an_unanswered_page_call_is_reported_and_the_next_channel_tried(world: TwilioWorld) -> None:
    world.prefer_channels("LDR-ZY01-01-1", "voice", "sms", "web")
    world.fake.call_outcomes[LONG_XIAOYAN] = "busy"
    world.fake.out_of_order = True  # "busy" arrives before "ringing" and "initiated"
    await world.phone(LI_XIUYING).text("桐柏路199号院停水了")
    await world.settle()
    voice_page, sms_page = world.pages()[:2]
    assert (voice_page.status, voice_page.provider_status) == ("failed", "failed")
    assert sms_page.channel == "sms" and sms_page.status == "delivered"


async def test_silence_on_a_page_call_repeats_the_case_then_hangs_up(world: TwilioWorld) -> None:
    world.prefer_channels("LDR-ZY01-01-1", "voice", "sms", "web")
    await world.phone(LI_XIUYING).text("桐柏路199号院停水了")
    await world.settle()
    call = world.phone(LONG_XIAOYAN).expect_call()
    await call.stay_silent()
    assert "再播报" in call.last_heard
    await call.press("5")
    assert "无效按键" in call.last_heard
    await call.stay_silent()
    assert call.ended and "再见" in call.last_heard
    await world.settle()
    (page,) = world.pages()[:1]
    assert page.status == "delivered"  # a person heard it; the escalation timer decides what next


async def test_a_caller_known_only_by_phone_is_told_by_text_when_the_leader_acknowledges(
    world: TwilioWorld,
) -> None:
    world.prefer_channels("LDR-ZY01-01-1", "sms", "voice", "web")
    caller = world.phone("+8613700000009")
    call = await caller.call()
    await call.say("桐柏路199号院停水了，一点水都没有")
    (case,) = world.cases()
    await world.settle()
    leader = world.phone(LONG_XIAOYAN)
    code = leader.expect_sms("回复").body.split("回复")[1][0]
    await leader.reply(code)
    await world.settle()
    caller.expect_sms(case.ref, "接单")


async def test_a_leader_calling_the_hotline_is_told_how_to_work_pages(world: TwilioWorld) -> None:
    call = await world.phone(LONG_XIAOYAN).call()
    await call.say("我想查一下我的工单")
    assert call.ended and "短码" in call.last_heard
    assert world.cases() == []


@pytest.mark.parametrize("world", ["sqlite", "postgres"], indirect=True)
async def test_a_caller_is_asked_by_phone_whether_it_is_solved_and_answers_with_a_key(world: TwilioWorld) -> None:
    world.prefer_channels("LDR-ZY01-01-1", "sms", "voice", "web")
    call = await world.phone(LI_XIUYING).call()
    await call.say("俺家从昨天就停水了，一点水都没有")
    await call.stay_silent()
    await world.settle()
    (case,) = world.cases()
    leader = world.phone(LONG_XIAOYAN)
    await leader.reply(f"{code_in(leader.expect_sms('回复').body)}r")
    await world.settle()
    assert world.case(case.ref).status == "resolved"

    asked = world.phone(LI_XIUYING).expect_call()  # the resident reported by voice: asked by voice
    assert "解决了吗" in asked.heard
    await asked.press("1")
    await world.settle()
    with world.services.db.session() as session:
        from gridline.storage import case_events

        kinds = [event.kind for event in case_events.events(session, case.id)]
    assert "resident_confirmed" in kinds


async def test_a_caller_asking_who_their_leader_is_hears_the_name_not_the_number_they_dialled(
    world: TwilioWorld,
) -> None:
    call = await world.phone(LI_XIUYING).call()
    await call.say("我们的网格长是谁")
    assert "龙小燕" in call.last_heard
    assert world.services.settings.cases.hotline_display not in call.last_heard  # what they just dialled
    assert "现在就可以说" in call.last_heard
    assert not world.cases()


async def test_an_unknown_caller_asking_who_their_leader_is_is_asked_to_say_the_address(world: TwilioWorld) -> None:
    """A call cannot share a location: the caller is asked to say the address, and what they say next
    registers them (it was filed as a report)."""
    call = await world.phone("+8613700000029").call()
    await call.say("我们的网格长是谁")
    assert "说出您的住址" in call.last_heard and "位置" not in call.last_heard

    await call.say("桐柏路199号院5号楼")
    assert "龙小燕" in call.last_heard
    assert not world.cases()


async def test_the_emergency_advice_on_a_call_is_said_without_an_emoji(world: TwilioWorld) -> None:
    call = await world.phone(LI_XIUYING).call()
    await call.say("楼下着火了，好多烟")
    assert "119" in call.last_heard
    assert "⚠" not in call.heard


async def test_a_key_that_is_no_option_asks_the_options_again(world: TwilioWorld) -> None:
    """Offered 社会治安 1 … 其他 4, an elderly caller presses 9: the options are said again and keys
    keep answering them — 2 was read as "查询进度" once the call had fallen back to the menu."""
    call = await world.phone(LI_XIUYING).call()
    await call.say("有个事情想反映一下楼里的情况，门口")
    offered = call.last_heard
    assert "请按1" in offered and "请按2" in offered, offered
    second = offered.split("请按2")[0].splitlines()[-1]  # "道路设施请按2。" → "道路设施"

    await call.press("9")
    assert "请按2" in call.last_heard and second in call.last_heard, call.last_heard

    await call.press("2")
    assert "未办结" not in call.last_heard, call.last_heard  # not the status menu
    (case,) = world.cases()
    assert t(f"category.{case.category}", "zh-CN") == second
