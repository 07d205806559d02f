"""走千家 over SMS, end to end: real webhooks, the real twilio client, the fake Twilio, the fake clock."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.conftest import BACKENDS
from tests.twilio.conftest import CHEN_YONG, LONG_XIAOYAN, YAO_XIAOYAN, TwilioWorld
from tests.twilio.test_sms_scripts import code_in
from tests.visits.support import ALONE, all_visits, case, events_of, open_visit, staff

L2_HOU_XIA = "+8617000000040"
PHONES = {"MBR-ZY01-01-1": YAO_XIAOYAN, "MBR2-ZY01-01-1": CHEN_YONG}


def owner_phone(world: TwilioWorld) -> tuple[str, str]:
    """The code and phone of the member who owes the visit to 1-1-101 (members share a grid's households)."""
    visit = open_visit(world.services, ALONE)
    for code, phone in PHONES.items():
        if staff(world.services, code).id == visit.staff_id:
            return code, phone
    raise AssertionError(f"1-1-101's visit is owed by staff {visit.staff_id}, not a member")


@pytest.mark.parametrize("world", BACKENDS, indirect=True)
async def test_a_weekly_visit_falls_due_and_is_logged_by_sms(world: TwilioWorld) -> None:
    await world.settle()  # the reconciler plans the roster's visits
    visit = open_visit(world.services, ALONE)
    assert visit.rule == "elderly_alone"
    assert timedelta(days=6) < visit.due_at - world.clock.now() <= timedelta(days=7, hours=12)
    code, number = owner_phone(world)
    member = world.phone(number)
    member.expect_no_sms()  # a week away: not in today's digest

    world.clock.set(visit.due_at - timedelta(days=1, hours=2))  # the morning the day before, after 08:00
    await world.settle()
    world.clock.advance(seconds=30)  # digests are bulk: paced, a second apart on the SMS number
    await world.settle()
    digest = member.expect_sms("1-1-101", "走访")
    assert "1户" in digest.body or "1 户" in digest.body

    answer = await member.text("走访 1-1-101 正常 老人身体不错")
    assert answer.status_code == 200
    await world.settle()
    reply = member.expect_sms("已记录", "1-1-101")
    assert "正常" in reply.body
    (done,) = [v for v in all_visits(world.services) if v.id == visit.id]
    assert (done.status, done.outcome, done.channel, done.note) == ("done", "ok", "sms", "老人身体不错")
    assert done.done_by == staff(world.services, code).id and done.case_id is None
    following = open_visit(world.services, ALONE)
    assert following.id != visit.id and following.due_at - done.done_at > timedelta(days=6)

    world.clock.set(visit.due_at + timedelta(hours=1))
    await world.settle()
    member.expect_no_sms()  # logged: the old deadline passes without a word
    assert [e.kind for e in events_of(world.services, visit.id)] == ["scheduled", "done"]


@pytest.mark.parametrize("world", BACKENDS, indirect=True)
async def test_a_missed_visit_goes_to_the_member_then_the_leader_then_level_two(world: TwilioWorld) -> None:
    world.prefer_channels("LDR-ZY01-01-1", "sms", "voice", "web")
    world.prefer_channels("L2-ZY01-01", "sms", "web")
    await world.settle()
    visit = open_visit(world.services, ALONE)
    _, number = owner_phone(world)
    member, leader, level2 = world.phone(number), world.phone(LONG_XIAOYAN), world.phone(L2_HOU_XIA)

    world.clock.set(visit.due_at + timedelta(minutes=1))
    await world.settle()
    notice = member.expect_sms("走访逾期", "1-1-101")
    assert "独居老人" in notice.body and "暂无走访记录" in notice.body  # the household's history
    assert not [m for m in leader.unread() if "走访逾期" in m.body]  # (the day's digest lists it as overdue)
    assert open_visit(world.services, ALONE).status == "missed"

    world.clock.advance(hours=23)
    await world.settle()
    assert not [m for m in leader.unread() if "走访逾期" in m.body]  # the member has a day
    world.clock.advance(hours=1, minutes=1)
    await world.settle()
    leader.expect_sms("走访逾期", "1-1-101")
    assert not [m for m in level2.unread() if "走访逾期" in m.body]
    assert open_visit(world.services, ALONE).status == "escalated"

    world.clock.advance(hours=24, minutes=1)
    await world.settle()
    level2.expect_sms("走访逾期", "1-1-101")
    kinds = [e.kind for e in events_of(world.services, visit.id)]
    assert kinds == ["scheduled", "missed", "escalated", "escalated", "escalation_exhausted"]

    # Late is better than never: the leader goes and logs it; nobody is told again.
    for phone in (member, leader, level2):
        for message in phone.unread():
            message.read = True  # the days' digests, read
    await leader.text("走访 1-1-101 正常")
    await world.settle()
    leader.expect_sms("已记录")
    (done,) = [v for v in all_visits(world.services) if v.id == visit.id]
    assert done.status == "done" and done.done_by == staff(world.services, "LDR-ZY01-01-1").id
    world.clock.advance(hours=48)
    await world.settle()
    for phone in (member, leader, level2):
        assert not [m.body for m in phone.unread() if "走访逾期" in m.body or "1-1-101" in m.body]


@pytest.mark.parametrize("world", BACKENDS, indirect=True)
async def test_a_problem_found_on_a_visit_becomes_a_proactive_case(world: TwilioWorld) -> None:
    world.prefer_channels("LDR-ZY01-01-1", "sms", "voice", "web")
    await world.settle()
    visit = open_visit(world.services, ALONE)
    _, number = owner_phone(world)
    member, leader = world.phone(number), world.phone(LONG_XIAOYAN)

    await member.text("走访 1-1-101 有问题 楼道灯坏了，老人晚上出门看不见")
    await world.settle()
    reply = member.expect_sms("主动发现")
    (done,) = [v for v in all_visits(world.services) if v.id == visit.id]
    assert done.outcome == "problem" and done.case_id is not None
    found = case(world.services, done.case_id)
    assert found.ref in reply.body
    assert found.proactive and found.channel == "visit"
    assert found.grid_code == "ZY01-01-1" and "1-1-101" in (found.address_text or "")
    assert "楼道灯坏了" in found.summary
    # It flows into the normal lifecycle: the on-duty leader is paged and acknowledges by code.
    page = leader.expect_sms("桐柏路199号院", "回复")
    assert found.status == "paged"
    await leader.text(code_in(page.body))
    await world.settle()
    assert world.case(found.ref).status == "acknowledged"


async def test_bad_visit_texts_get_clear_answers_and_store_nothing(world: TwilioWorld) -> None:
    await world.settle()
    before = [(v.id, v.status) for v in all_visits(world.services)]
    cases_before = len(world.cases())
    member = world.phone(YAO_XIAOYAN)

    await member.text("走访 2-301 正常")  # a household of ZY01-01-2, not hers
    await world.settle()
    member.expect_sms("2-301", "不是您所在网格")
    await member.text("走访 9-9-909 正常")
    await world.settle()
    member.expect_sms("没有 9-9-909")
    await member.text("走访 楼道 正常")
    await world.settle()
    member.expect_sms("不是房号")
    await member.text("走访 1-1-101")
    await world.settle()
    member.expect_sms("正常", "有问题")
    await member.text("走访")
    await world.settle()
    member.expect_sms("走访记录格式")
    await member.text("visit 1-1-101 fine, thanks")  # English keyword, no verdict the grammar knows
    await world.settle()
    member.expect_sms("1-1-101")

    assert [(v.id, v.status) for v in all_visits(world.services)] == before
    assert len(world.cases()) == cases_before
