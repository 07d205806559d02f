"""走千家 by phone: the reminder call of a missed visit, answered with a key (1 正常, 2 有问题 and the
problem said), through the fake Twilio's calls, the real webhooks and the fake clock. The member who
owes 1-1-101's visit takes calls first (``voice`` is their first contact method)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.conftest import BACKENDS
from tests.twilio.conftest import TwilioWorld
from tests.twilio.fake_voice import FakeCall
from tests.visits.by_sms.test_visits_sms import owner_phone
from tests.visits.support import ALONE, all_visits, case, events_of, open_visit, staff


async def reminder_call(world: TwilioWorld) -> tuple[str, FakeCall, int]:
    """The visit to 1-1-101 falls due unlogged: its owner, on voice first, is called about it."""
    await world.settle()
    visit = open_visit(world.services, ALONE)
    code, number = owner_phone(world)
    world.prefer_channels(code, "voice", "sms", "web")
    world.clock.set(visit.due_at + timedelta(minutes=1))
    await world.settle()
    phone = world.phone(number)
    assert not [m.body for m in phone.unread() if "走访逾期" in m.body], "a caller is called, not texted"
    call = phone.expect_call()
    assert "走千家提醒" in call.heard and "1-1-101" in call.heard and "独居老人" in call.heard
    assert "正常请按1" in call.heard and "有问题请按2" in call.heard
    return code, call, visit.id or 0


@pytest.mark.parametrize("world", BACKENDS, indirect=True)
async def test_a_missed_visit_reminder_call_is_logged_by_pressing_1(world: TwilioWorld) -> None:
    code, call, visit_id = await reminder_call(world)

    await call.press("1")

    assert call.ended and "已记录走访 1-1-101：正常" in call.last_heard
    (done,) = [v for v in all_visits(world.services) if v.id == visit_id]
    assert (done.status, done.outcome, done.channel) == ("done", "ok", "voice")
    assert done.done_by == staff(world.services, code).id and done.case_id is None
    assert [e.kind for e in events_of(world.services, visit_id)] == ["scheduled", "missed", "done"]
    world.clock.advance(days=3)
    await world.settle()
    assert open_visit(world.services, ALONE).id != visit_id  # the next one is planned; nobody escalates


@pytest.mark.parametrize("world", BACKENDS, indirect=True)
async def test_pressing_2_and_saying_the_problem_opens_a_proactive_case(world: TwilioWorld) -> None:
    _, call, visit_id = await reminder_call(world)

    await call.press("2")
    assert not call.ended and "请说出发现的问题" in call.last_heard
    await call.say("楼道灯坏了，老人晚上看不见")

    assert call.ended and "主动发现" in call.last_heard
    (done,) = [v for v in all_visits(world.services) if v.id == visit_id]
    assert (done.status, done.outcome, done.channel) == ("done", "problem", "voice")
    assert done.note == "楼道灯坏了，老人晚上看不见" and done.case_id is not None
    found = case(world.services, done.case_id)
    assert found.proactive and found.channel == "visit" and "楼道灯坏了" in found.summary
    assert found.ref in call.last_heard


async def test_silence_after_2_asks_again_then_logs_the_problem_without_a_note(world: TwilioWorld) -> None:
    _, call, visit_id = await reminder_call(world)

    await call.press("2")
    await call.stay_silent()
    assert not call.ended and "没有听清" in call.last_heard
    await call.stay_silent()
    await call.stay_silent()

    assert call.ended and "主动发现" in call.last_heard
    (done,) = [v for v in all_visits(world.services) if v.id == visit_id]
    assert done.outcome == "problem" and done.note is None
    assert "未填写说明" in case(world.services, done.case_id or 0).summary


async def test_a_key_for_a_visit_logged_meanwhile_by_sms_says_so_and_logs_nothing_twice(world: TwilioWorld) -> None:
    _, call, visit_id = await reminder_call(world)
    _, number = owner_phone(world)
    await world.phone(number).text("走访 1-1-101 正常")
    await world.settle()

    await call.press("1")

    assert call.ended and "已经记录过了" in call.last_heard
    assert [e.kind for e in events_of(world.services, visit_id)].count("done") == 1
