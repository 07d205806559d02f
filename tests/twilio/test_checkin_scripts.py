"""平安守护 check-ins as scripts through the fake Twilio: asked at the member's time, answered "1" or
"2" by text or by a key on a call, and silence that goes retry → helper → leader → family → an
urgent case after two missed cycles. The clock is the fake one; the demo city's household 1-1-101
in ZY01-01-1 (王桂芝, helper 张阿姨, son 王建军) consented to check-ins and to calling the family."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlmodel import col, select

from gridline.routing.checkins import checkin_measures
from gridline.storage.models import Case, CheckIn, CheckInEvent, CheckInStep, Household, HouseholdPerson
from tests.conftest import BACKENDS, SHANGHAI, START
from tests.twilio.conftest import LONG_XIAOYAN, TwilioWorld

WANG = "+8617000020001"  # 王桂芝, 1-1-101, lives alone
HELPER = "+8617000020201"  # 张阿姨, her helper next door
SON = "+8617000020101"  # 王建军, her son
WINDOW = 30  # checkins.answer_window_minutes (the default)


def opt_in(
    world: TwilioWorld, phone: str = WANG, *, channel: str = "sms", at: str = "10:30", days: list[int] | None = None
) -> int:
    """What a leader records in the console: the member's channel, time and days."""
    with world.services.db.session() as session:
        person = session.exec(select(HouseholdPerson).where(HouseholdPerson.phone == phone)).one()
        household = session.get(Household, person.household_id)
        assert household is not None and household.consent_checkin
        person.checkin_channel, person.checkin_time, person.checkin_days = channel, at, days or []
        session.add(person)
        return person.id or 0


def checkins(world: TwilioWorld) -> list[CheckIn]:
    with world.services.db.session() as session:
        return list(session.exec(select(CheckIn).order_by(col(CheckIn.id))))


def events(world: TwilioWorld, checkin_id: int) -> list[str]:
    with world.services.db.session() as session:
        return [
            e.kind
            for e in session.exec(
                select(CheckInEvent).where(CheckInEvent.checkin_id == checkin_id).order_by(col(CheckInEvent.id))
            )
        ]


async def minutes(world: TwilioWorld, n: float) -> None:
    world.clock.advance(minutes=n)
    await world.settle()


@pytest.mark.parametrize("world", BACKENDS, indirect=True)
async def test_a_check_in_at_her_time_answered_1(world: TwilioWorld) -> None:
    opt_in(world)
    await world.settle()
    wang = world.phone(WANG)
    wang.expect_no_sms()  # 10:00: not yet
    today, tomorrow = checkins(world)  # planned a day ahead
    assert (today.status, tomorrow.status) == ("scheduled", "scheduled")
    assert today.cycle == START.astimezone(SHANGHAI).date().isoformat()
    assert tomorrow.due_at - today.due_at == timedelta(days=1)
    await minutes(world, 30)  # 10:30 in Zhengzhou

    question = wang.expect_sms("平安守护", "王桂芝", "回复1 报平安", "回复2 需要帮助")
    assert question.to == WANG
    await wang.text("1")
    await world.settle()

    wang.expect_sms("平安就好")
    today = checkins(world)[0]
    assert today.status == "ok" and today.answer == "ok"
    assert events(world, today.id or 0) == ["asked", "ok"]
    await minutes(world, 4 * WINDOW)
    world.phone(HELPER).expect_no_sms()  # an answered check-in escalates nowhere
    wang.expect_no_sms()
    measured = await checkin_measures(world.services, START)
    assert (measured.asked, measured.answered, measured.response_rate) == (1, 1, 1.0)


@pytest.mark.parametrize("world", BACKENDS, indirect=True)
async def test_silence_goes_retry_helper_leader_family_and_two_missed_cycles_open_an_urgent_case(
    world: TwilioWorld,
) -> None:
    opt_in(world)
    wang, helper, son, leader = (world.phone(n) for n in (WANG, HELPER, SON, LONG_XIAOYAN))
    world.prefer_channels("LDR-ZY01-01-1", "sms", "voice", "web")
    await minutes(world, 30)
    wang.expect_sms("回复1 报平安")

    await minutes(world, WINDOW)  # silence: asked again
    wang.expect_sms("还没收到您的回复")
    helper.expect_no_sms()
    await minutes(world, WINDOW)  # silence: the helper next door
    helper.expect_sms("1-1-101", "王桂芝", "回复1 我去看看")
    leader.expect_no_sms()
    await minutes(world, WINDOW)  # silence: the leader on duty
    leader.expect_sms("1-1-101", "王桂芝", "张阿姨")
    son.expect_no_sms()
    await minutes(world, WINDOW)  # silence: the family (the household consented)
    son.expect_sms("您的家人", "王桂芝")
    await minutes(world, WINDOW)  # the cycle closes in silence
    (first, second) = checkins(world)[:2]
    assert first.status == "missed" and first.case_id is None  # one missed cycle is not a case yet
    assert events(world, first.id or 0) == ["asked", "retried", "escalated", "told", "told", "missed"]
    assert world.cases() == []

    # The next day, the same silence: the second missed cycle opens an urgent case at her address.
    world.clock.set(second.due_at)
    await world.settle()
    wang.expect_sms("回复1 报平安")
    for _ in range(5):
        await minutes(world, WINDOW)
    second = checkins(world)[1]
    assert second.status == "missed" and second.case_id is not None
    (case,) = world.cases()
    assert case.priority == "urgent" and case.category == "elderly_care" and case.grid_code == "ZY01-01-1"
    assert "1-1-101" in (case.address_text or "") and "连续 2 次" in case.summary
    assert world.pages(case.id), "the case pages the leader on duty like any other"

    # A person at the door: the helper answers "1" (I am going) to her text about the second cycle.
    await helper.text("1")
    await world.settle()
    helper.expect_sms("谢谢您")
    measured = await checkin_measures(world.services, START)
    assert measured.asked == 2 and measured.answered == 0 and measured.missed == 2
    assert len(measured.door_minutes) == 1 and measured.door_minutes[0] > 0


@pytest.mark.parametrize("world", BACKENDS, indirect=True)
async def test_answer_2_opens_an_urgent_case_at_once(world: TwilioWorld) -> None:
    opt_in(world)
    wang = world.phone(WANG)
    await minutes(world, 30)
    wang.expect_sms("回复2 需要帮助")
    await wang.text("2")
    await world.settle()

    (case,) = world.cases()
    reply = wang.expect_sms("已通知网格长", case.ref)
    assert reply
    assert case.priority == "urgent" and "需要帮助" in case.summary and case.grid_code == "ZY01-01-1"
    (today, *_) = checkins(world)
    assert today.status == "help" and today.case_id == case.id
    await world.settle()
    assert world.pages(case.id)
    await minutes(world, 3 * WINDOW)
    assert not [m.body for m in wang.unread() if "平安守护" in m.body]  # no retry after an answer
    with world.services.db.session() as session:
        statuses = {
            s.stage: s.status for s in session.exec(select(CheckInStep).where(CheckInStep.checkin_id == today.id))
        }
    assert statuses["ask"] == "done" and statuses.get("retry") == "cancelled"


@pytest.mark.parametrize("world", BACKENDS, indirect=True)
async def test_a_voice_check_in_answered_by_pressing_1(world: TwilioWorld) -> None:
    opt_in(world, channel="voice")
    await minutes(world, 30)
    wang = world.phone(WANG)
    wang.expect_no_sms()
    call = wang.expect_call()
    assert "平安守护" in call.heard and "报平安请按1" in call.heard and "需要帮助请按2" in call.heard

    await call.press("1")

    assert call.ended and "平安就好" in call.last_heard
    (today, *_) = checkins(world)
    assert today.status == "ok" and today.channel == "voice"
    await world.settle()
    await minutes(world, 2 * WINDOW)
    assert len(world.fake.calls_to(WANG)) == 1  # answered: never called again


async def test_a_voice_check_in_asked_again_is_said_for_the_ear(world: TwilioWorld) -> None:
    """The retry's question is the typed "asked again" text's voice variant: no 【平安守护】 heading read out."""
    opt_in(world, channel="voice")
    await minutes(world, 30)
    wang = world.phone(WANG)
    first = wang.expect_call()
    await minutes(world, WINDOW)  # no key pressed: asked again
    again = wang.expect_call()
    assert again is not first
    assert "您好，这里是平安守护" in again.heard and "还没收到您的回复" in again.heard
    assert "【" not in again.heard and "报平安请按1" in again.heard


async def test_a_check_in_is_only_on_the_chosen_weekdays(world: TwilioWorld) -> None:
    thursday = 4  # START is a Thursday in Zhengzhou
    opt_in(world, days=[thursday + 1])  # Fridays only
    await world.settle()
    planned = checkins(world)
    assert len(planned) == 1 and planned[0].due_at == START + timedelta(days=1, minutes=30)


async def test_a_stranger_texting_1_gets_no_check_in_answer_and_a_late_1_after_the_window_still_counts(
    world: TwilioWorld,
) -> None:
    opt_in(world)
    await minutes(world, 30)
    stranger = world.phone("+8613900000077")
    await stranger.text("1")
    await world.settle()
    assert checkins(world)[0].status == "asked"
    for _ in range(5):
        await minutes(world, WINDOW)
    assert checkins(world)[0].status == "missed"
    await world.phone(WANG).text("1")
    await world.settle()
    assert checkins(world)[0].status == "ok"
    with world.services.db.session() as session:
        assert session.exec(select(Case)).all() == []


# --- sweeps --------------------------------------------------------------------------------

LI = "+8617000010001"  # 李秀英, 3-2-401 (ZY01-01-1)
LIU = "+8617000020002"  # 刘长福, 1-2-302 (ZY01-01-1)
ZHAO = "+8617000010002"  # 赵德明, 5-1-102 (ZY01-01-1)
SUN = "+8617000010003"  # 孙桂兰, 2-301 (ZY01-01-2)
CHEN = "+8617000020003"  # 陈奶奶, 4-1-201 (ZY01-01-2; the first member, a child, has no phone)


async def start(world: TwilioWorld, reason: str = "cold_wave", grids=("ZY01-01-1", "ZY01-01-2"), tags=()):
    from gridline.kernel.work import in_transaction
    from gridline.routing.sweeps import start_sweep

    return await in_transaction(
        world.services, start_sweep, world.services.settings, reason=reason, grid_codes=list(grids), tags=list(tags),
        started_by="console:supervisor", allowed_grids={"ZY01-01-1", "ZY01-01-2", "GX01-01-1"},
    )  # fmt: skip


async def coverage(world: TwilioWorld, sweep_id: int):
    from gridline.kernel.work import in_transaction
    from gridline.routing.sweeps import coverage as read

    return await in_transaction(world.services, read, sweep_id)


@pytest.mark.parametrize("world", BACKENDS, indirect=True)
async def test_a_sweep_over_two_grids_with_mixed_answers(world: TwilioWorld) -> None:
    started = await start(world)
    assert started.questions == 6 and started.unreachable == 0
    for _ in range(6):  # paced: one text a second from the SMS number (pacing.sms_per_second)
        world.clock.advance(seconds=1)
        await world.settle()
    phones = {n: world.phone(n) for n in (LI, WANG, LIU, ZHAO, SUN, CHEN)}
    for phone in phones.values():
        phone.expect_sms("【寒潮】", "回复1 平安", "回复2 需要帮助")
    assert not world.fake.messages_to("+8617000020004")  # 马玉珍 lives in GX01-01-1: not swept

    await phones[WANG].text("1")
    await phones[SUN].text("1")
    await phones[LIU].text("2")
    await world.settle()
    phones[WANG].expect_sms("平安就好")
    (case,) = world.cases()
    phones[LIU].expect_sms("已通知网格长", case.ref)
    assert case.priority == "urgent" and "寒潮" in case.summary and "1-2-302" in (case.address_text or "")
    now = await coverage(world, started.sweep.id or 0)
    assert (now.asked, now.ok, now.help, now.no_answer, now.waiting) == (6, 2, 1, 0, 3)
    assert now.delivery == {"delivered": 6}  # the fake Twilio's status callbacks

    await minutes(world, world.services.settings.checkins.sweep_window_minutes)
    after = await coverage(world, started.sweep.id or 0)
    assert (after.ok, after.help, after.no_answer, after.waiting) == (2, 1, 3, 0)
    with world.services.db.session() as session:
        silent = session.exec(
            select(CheckIn).where(CheckIn.sweep_id == started.sweep.id, CheckIn.status == "missed")
        ).all()
        assert {q.visit_ref for q in silent} != {None}  # a visit due today for each
        due = session.exec(select(CheckInEvent).where(CheckInEvent.kind == "visit_due")).all()
    assert len(due) == 3
    for phone in phones.values():
        assert not [m for m in phone.unread() if "【寒潮】" in m.body]  # asked once, never twice


async def test_a_sweep_refuses_bad_input_with_a_clear_error(world: TwilioWorld) -> None:
    from gridline.routing.sweeps import SweepRefused

    with pytest.raises(SweepRefused, match="unknown sweep reason 'tornado'"):
        await start(world, reason="tornado")
    with pytest.raises(SweepRefused, match="grid ZZ99 does not exist"):
        await start(world, grids=("ZZ99",))
    with pytest.raises(SweepRefused, match="Choose at least one grid"):
        await start(world, grids=())
    with pytest.raises(SweepRefused, match="unknown tag 'vip'"):
        await start(world, tags=("vip",))
    with pytest.raises(SweepRefused, match="no household"):
        await start(world, grids=("ZY01-01-2",), tags=("disabled",))
    with world.services.db.session() as session:
        assert session.exec(select(CheckIn)).all() == []


async def test_the_measures_are_scoped_to_grids(world: TwilioWorld) -> None:
    from gridline.kernel.work import in_transaction
    from gridline.routing.checkins import measures

    opt_in(world)
    await minutes(world, 30)
    await world.phone(WANG).text("1")
    await world.settle()
    mine = await in_transaction(world.services, measures, START, frozenset({"ZY01-01-1"}))
    elsewhere = await in_transaction(world.services, measures, START, frozenset({"GX01-01-1"}))
    assert (mine.asked, mine.answered, mine.response_rate) == (1, 1, 1.0)
    assert (elsewhere.asked, elsewhere.response_rate) == (0, None)


async def test_bad_requests_to_the_question_call_are_clear_4xx_and_change_nothing(world: TwilioWorld) -> None:
    from twilio.request_validator import RequestValidator

    opt_in(world, channel="voice")
    await minutes(world, 30)
    call = world.phone(WANG).expect_call()
    message_id = checkins(world)[0].message_ids[0]
    url = f"{world.base_url}/webhooks/twilio/voice/ask/{message_id}/key?n=1&s=ab"
    form = {"AccountSid": "AC" + "0" * 32, "CallSid": call.sid, "Digits": "2"}
    forged = RequestValidator("not-the-token").compute_signature(url, form)
    async with httpx.AsyncClient() as client:
        assert (await client.post(url, data=form, headers={"X-Twilio-Signature": forged})).status_code == 403
    no_sid = await world.fake.post_signed(url, {"AccountSid": "AC" + "0" * 32, "Digits": "2"})
    assert no_sid.status_code == 400
    not_a_row = await world.fake.post_signed(
        f"{world.base_url}/webhooks/twilio/voice/ask/0/key", {"AccountSid": "AC" + "0" * 32, "CallSid": call.sid}
    )
    assert not_a_row.status_code == 422
    other_call = await world.fake.post_signed(url, {**form, "CallSid": "CA" + "9" * 32})
    assert other_call.status_code == 200 and "结束" in other_call.text  # not this call's question: nothing happens
    assert checkins(world)[0].status == "asked" and world.cases() == []
