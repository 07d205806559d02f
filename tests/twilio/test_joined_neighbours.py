"""A neighbour whose text joined a case (「已有 2 人反映」) sends a photo by MMS: it goes on the case they
last wrote about — the one they joined, not an older case of their own, and never on a new case."""

from __future__ import annotations

import httpx
from sqlmodel import col, select

from gridline.routing.actions import act_on_case
from gridline.storage.models import Case, CaseEvent, FollowUp, Message, Resident
from tests.console.conftest import add_account, login
from tests.evidence_images import jpeg
from tests.twilio.conftest import LI_XIUYING, LONG_XIAOYAN, ZHAO_DEMING, TwilioWorld
from tests.twilio.fake_twilio import FakePhone
from tests.twilio.test_follow_up_call import click_call, supervisor
from tests.twilio.test_sms_scripts import code_in


def media_events(world: TwilioWorld, case_id: int | None) -> list[CaseEvent]:
    with world.services.db.session() as session:
        return list(session.exec(select(CaseEvent).where(CaseEvent.case_id == case_id, CaseEvent.kind == "media")))


async def resolved_with_a_neighbour(world: TwilioWorld) -> tuple[FakePhone, FakePhone, Case]:
    """李秀英 reports a water outage, 赵德明 joins it, and the leader takes it and marks it resolved."""
    first, neighbour = world.phone(LI_XIUYING), world.phone(ZHAO_DEMING)
    await first.text("俺们楼从昨天就没水了咋弄")
    await world.settle()
    await neighbour.text("5号楼也停水了，一滴水都没有")
    await world.settle()
    case = world.cases()[-1]
    leader = world.staff("LDR-ZY01-01-1").id
    for action in ("acknowledge", "resolve"):
        assert (await act_on_case(world.services, case_id=case.id, staff_id=leader, action=action,
                                  channel="web")).ok  # fmt: skip
    await world.settle()
    return first, neighbour, case


async def test_a_neighbours_mms_goes_on_the_case_they_joined_not_on_their_own_older_case(world: TwilioWorld) -> None:
    world.prefer_channels("LDR-ZY01-01-1", "sms", "voice", "web")
    neighbour, first = world.phone(ZHAO_DEMING), world.phone(LI_XIUYING)
    await neighbour.text("楼道灯坏了好几天了")
    await world.settle()
    own = world.cases()[-1]
    await first.text("俺们楼从昨天就没水了咋弄")
    await world.settle()
    water = world.cases()[-1]
    await neighbour.text("5号楼也停水了，一滴水都没有")
    await world.settle()
    assert world.case(water.ref).report_count == 2, "the neighbour joined the water case"
    neighbour.expect_sms(water.ref)
    before = len(world.cases())

    await neighbour.mms("", jpeg(31))
    await world.settle()
    assert len(world.cases()) == before, "a photo opens no case of its own"
    neighbour.expect_sms("附在工单", water.ref)
    with world.services.db.session() as session:
        zhao = session.exec(select(Resident).where(Resident.phone == ZHAO_DEMING)).one()
        [photo] = session.exec(select(Message).where(Message.resident_id == zhao.id, Message.direction == "in")
                               .order_by(col(Message.id).desc()).limit(1))  # fmt: skip
    assert [e.actor for e in media_events(world, water.id)] == [f"resident:{zhao.id}"]
    assert media_events(world, own.id) == []
    assert photo.media and photo.case_id == water.id, "the console's timeline shows the photo on the case"

    add_account(world.services, "sup-zhongyuan", "supervisor", grid="ZY01")
    async with httpx.AsyncClient(base_url=world.base_url) as console:
        assert (await login(console, "sup-zhongyuan")).status_code == 303
        page = (await console.get(f"/console/cases/{water.id}")).text
    assert "居民发送附件" in page and f"resident:{zhao.id}" in page and "附件 1 个" in page


async def test_a_leaders_words_after_the_code_reach_every_neighbour_who_reported_it(world: TwilioWorld) -> None:
    """「12 已联系自来水公司…」 is passed on to everyone who reported the problem, each in their language;
    it reached only the one who opened the case."""
    world.prefer_channels("LDR-ZY01-01-1", "sms", "voice", "web")
    with world.services.db.session() as session:
        zhao = session.exec(select(Resident).where(Resident.phone == ZHAO_DEMING)).one()
        zhao.lang = "en"
        session.add(zhao)
        session.commit()
    first, neighbour, leader = world.phone(LI_XIUYING), world.phone(ZHAO_DEMING), world.phone(LONG_XIAOYAN)
    await first.text("俺们楼从昨天就没水了咋弄")
    await world.settle()
    code = code_in(leader.expect_sms("回复").body)
    await neighbour.text("5号楼也停水了，一滴水都没有")
    await world.settle()
    ref = world.cases()[-1].ref
    assert world.case(ref).report_count == 2

    await leader.reply(f"{code} 已联系自来水公司，下午两点前恢复")
    await world.settle()
    first.expect_sms("网格长龙小燕", ref, "已联系自来水公司，下午两点前恢复")
    neighbour.expect_sms(f"case {ref}", "已联系自来水公司，下午两点前恢复")
    leader.expect_sms("2 位居民", ref)


async def test_a_low_rating_from_a_neighbour_who_joined_gets_its_follow_up_call(world: TwilioWorld) -> None:
    """docs/deadlines.md: the 回访 task of a low rating is about whoever gave it — the call rang the
    resident who opened the case, who may never have answered and been satisfied."""
    _, neighbour, case = await resolved_with_a_neighbour(world)
    await neighbour.text("解决了")
    await world.settle()
    neighbour.expect_sms("打分")
    await neighbour.text("1")
    await world.settle()
    assert world.case(case.ref).rating == 1
    with world.services.db.session() as session:
        (task,) = session.exec(select(FollowUp).where(FollowUp.case_id == case.id))
    assert task.reason == "low_rating"

    client = await supervisor(world)
    try:
        placed = await click_call(client, task.id or 0)
        assert placed.status_code == 303 and "done=call_placed" in placed.headers["location"]
    finally:
        await client.aclose()
    await world.settle()
    assert world.fake.calls_to(ZHAO_DEMING) and not world.fake.calls_to(LI_XIUYING)


async def test_when_a_neighbour_says_it_is_not_solved_the_others_who_reported_it_are_told(
    world: TwilioWorld,
) -> None:
    """Everyone was asked 解决了吗？; one neighbour's 「还是没水」 reopens the case. The others heard
    nothing, and 李秀英's 「解决了」 then got a bare status list (「已通知网格长（处理人：待接单）」)."""
    world.prefer_channels("LDR-ZY01-01-1", "sms", "voice", "web")
    first, neighbour, case = await resolved_with_a_neighbour(world)
    first.expect_sms("真的解决了吗")
    neighbour.expect_sms("真的解决了吗")

    await neighbour.text("还是没水")
    await world.settle()
    assert world.case(case.ref).status == "paged"
    neighbour.expect_sms("已重新打开", "侯霞", "您可以直接回复")
    told = first.expect_sms("已重新打开", case.ref).body
    assert "另一位" in told and "侯霞" in told and "您可以直接回复" not in told, told
    assert not [m for m in first.unread() if "重新打开" in m.body], "told once"


async def test_when_a_neighbour_confirms_it_is_solved_the_others_who_reported_it_are_told(
    world: TwilioWorld,
) -> None:
    """The first 「解决了」 decides and its rating closes the case; the others, asked 解决了吗？ too,
    heard nothing, and a late answer was told 「已经办结，这个问题不用再回答了」."""
    world.prefer_channels("LDR-ZY01-01-1", "sms", "voice", "web")
    first, neighbour, case = await resolved_with_a_neighbour(world)

    await neighbour.text("解决了")
    await world.settle()
    neighbour.expect_sms("打分")
    told = first.expect_sms("另一位", case.ref).body
    assert "已确认" in told and "打分" not in told, told
    await first.text("解决了")
    await world.settle()
    first.expect_sms("打分")  # while the case waits, her own yes is still hers to give
    assert not [m for m in neighbour.unread() if "另一位" in m.body], "told once, by the first yes only"
