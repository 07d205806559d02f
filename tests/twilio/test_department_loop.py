"""The department loop by SMS, end to end through the fake Twilio: 转办 → 签收 → 回单 → 审核 → the
resident is asked; 退单 with a reason back to the grid; extensions; bad texts answered, nothing stored."""

from __future__ import annotations

import re

import pytest
from sqlmodel import select

from gridline.storage.models import CaseEvent, Extension, Transfer
from tests.conftest import BACKENDS
from tests.twilio.conftest import LI_XIUYING, LONG_XIAOYAN, TwilioWorld

WAN_RUIFENG = "+8617000000051"  # DEP-WATER-2, 郑州自来水中原营业所 (ZY01)
XIE_JIAQI = "+8617000000052"  # DEP-POWER-1, 国网郑州供电公司高新供电部
HOU_XIA = "L2-ZY01-01"  # level-2 contact of 李秀英's grid


def code_in(text: str) -> str:
    match = re.search(r"#(\d+)", text)
    assert match, f"no page code in {text!r}"
    return match.group(1)


def transfers_of(world: TwilioWorld, case_id: int) -> list[Transfer]:
    with world.services.db.session() as session:
        return list(session.exec(select(Transfer).where(Transfer.case_id == case_id).order_by(Transfer.id)))


def kinds(world: TwilioWorld, case_id: int) -> list[str]:
    with world.services.db.session() as session:
        found = session.exec(select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id))
        return [e.kind for e in found]


async def acknowledged_outage(world: TwilioWorld):
    world.prefer_channels("LDR-ZY01-01-1", "sms", "voice", "web")
    world.prefer_channels("DEP-WATER-2", "sms", "web")
    world.prefer_channels(HOU_XIA, "sms", "web")
    resident, leader = world.phone(LI_XIUYING), world.phone(LONG_XIAOYAN)
    await resident.text("俺们楼从昨天就没水了咋弄")
    await world.settle()
    code = code_in(leader.expect_sms("回复").body)
    await leader.reply(code)
    await world.settle()
    leader.expect_sms("接单")
    case = world.cases()[-1]
    return resident, leader, code, case


@pytest.mark.parametrize("world", BACKENDS, indirect=True)
async def test_transfer_accept_reply_review_asks_the_resident(world: TwilioWorld) -> None:
    resident, leader, code, case = await acknowledged_outage(world)
    await leader.reply(f"转办{code} 小区主管道破裂，需自来水公司抢修")
    await world.settle()
    leader.expect_sms("已转办给郑州自来水中原营业所")
    resident.expect_sms("郑州自来水中原营业所")

    dept = world.phone(WAN_RUIFENG)
    page = dept.expect_sms("【转办】", "签收")
    dept_code = code_in(page.body)
    await dept.reply(f"回单{dept_code} 修好了")  # not accepted yet
    await world.settle()
    dept.expect_sms("还没有签收")
    await dept.reply(f"签收{dept_code}")
    await world.settle()
    dept.expect_sms("已签收", "前办结回单")
    resident.expect_sms("已受理")

    await dept.reply(f"回单{dept_code} 已更换破裂管段，恢复供水")
    await world.settle()
    dept.expect_sms("已回单")
    review = leader.expect_sms("【回单待审核】", "恢复供水")
    await leader.reply(f"通过{code_in(review.body)}")
    await world.settle()
    leader.expect_sms("审核通过")
    resident.expect_sms("解决了吗")

    stored = world.case(case.ref)
    assert stored.status == "resolved" and stored.resolved_by == world.staff("DEP-WATER-2").id
    (transfer,) = transfers_of(world, case.id)
    assert transfer.status == "approved" and "恢复供水" in (transfer.reply_text or "")
    assert [k for k in kinds(world, case.id) if k.startswith("transfer_")][:1] == ["transfer_requested"]


@pytest.mark.parametrize("world", BACKENDS, indirect=True)
async def test_a_return_with_a_reason_goes_back_to_the_grid_leader(world: TwilioWorld) -> None:
    _, leader, code, case = await acknowledged_outage(world)
    await leader.reply(f"转办{code}")
    await world.settle()
    leader.expect_sms("已转办")
    dept = world.phone(WAN_RUIFENG)
    dept_code = code_in(dept.expect_sms("【转办】").body)

    await dept.reply(f"退单{dept_code} 9")  # not a reason on the list: the list is the answer
    await world.settle()
    dept.expect_sms("退单原因", "1 非本部门职责")
    assert transfers_of(world, case.id)[0].status == "requested"

    await dept.reply(f"退单{dept_code} 1 属于物业管理的二次供水")
    await world.settle()
    dept.expect_sms("已退回网格", "非本部门职责")
    leader.expect_sms("【退单】", "非本部门职责")
    (transfer,) = transfers_of(world, case.id)
    assert (transfer.status, transfer.return_reason) == ("returned", "not_our_duty")
    assert world.case(case.ref).assignee_staff_id == world.staff("LDR-ZY01-01-1").id


async def test_bad_texts_get_clear_answers_and_store_nothing(world: TwilioWorld) -> None:
    _, leader, code, case = await acknowledged_outage(world)
    await leader.reply("转办 ZZZZZZ 主管破裂")
    await world.settle()
    leader.expect_sms("没有编号为 ZZZZZZ 的工单")
    await leader.reply("转办999")
    await world.settle()
    leader.expect_sms("没有回复码为 999")
    assert transfers_of(world, case.id) == []

    await leader.reply(f"转办 {case.ref}")  # by reference works too
    await world.settle()
    leader.expect_sms("已转办")
    before = kinds(world, case.id)
    stranger = world.phone(XIE_JIAQI)  # the power company, not the water one
    await stranger.reply(f"签收 {case.ref}")
    await world.settle()
    stranger.expect_sms("不是您的部门")
    await stranger.reply("帮助")  # a department's help is the loop's grammar
    await world.settle()
    stranger.expect_sms("签收12", "退单12")
    await leader.reply(f"通过{code}")  # nothing to review yet
    await world.settle()
    leader.expect_sms("没有待审核的回单")
    assert kinds(world, case.id) == before
    assert transfers_of(world, case.id)[0].status == "requested"


@pytest.mark.parametrize("world", BACKENDS, indirect=True)
async def test_an_extension_approved_by_level_two_moves_the_deadline(world: TwilioWorld) -> None:
    _, leader, code, case = await acknowledged_outage(world)
    old_due = world.case(case.ref).resolve_due_at
    await leader.reply(f"延期{code} 3")  # no reason
    await world.settle()
    leader.expect_sms("写明理由")
    await leader.reply(f"延期{code} 3 需等待管材到货")
    await world.settle()
    leader.expect_sms("延期申请", "等待上级审批")
    level2 = world.phone(world.staff(HOU_XIA).phone or "")
    ask = level2.expect_sms("【延期申请】", "需等待管材到货")
    await leader.reply(f"同意{code}")  # the holder cannot grant their own
    await world.settle()
    leader.expect_sms("上一级")
    await level2.reply(f"同意{code_in(ask.body)}")
    await world.settle()
    level2.expect_sms("已批准")
    leader.expect_sms("【延期已批准】")
    stored = world.case(case.ref)
    assert stored.resolve_due_at is not None and old_due is not None and stored.resolve_due_at > old_due
    with world.services.db.session() as session:
        (extension,) = session.exec(select(Extension)).all()
    assert extension.status == "approved" and extension.new_due_at == stored.resolve_due_at


@pytest.mark.parametrize("world", BACKENDS, indirect=True)
async def test_an_unaccepted_transfer_escalates_after_the_accept_limit(world: TwilioWorld) -> None:
    _, leader, code, case = await acknowledged_outage(world)
    await leader.reply(f"转办{code}")
    await world.settle()
    world.phone(WAN_RUIFENG).expect_sms("【转办】")
    world.clock.advance(hours=1, minutes=50)
    await world.settle()
    assert transfers_of(world, case.id)[0].status == "requested"
    world.clock.advance(minutes=15)  # past deadlines.transfer_accept_hours (2 h)
    await world.settle()
    (transfer,) = transfers_of(world, case.id)
    assert transfer.status == "escalated"
    assert kinds(world, case.id).count("transfer_escalated") == 1
    escalated = [p for p in world.pages(case.id) if p.reason == "transfer_escalated"]
    assert escalated and all(p.staff_id != world.staff("DEP-WATER-2").id for p in escalated)
    world.clock.advance(hours=3)
    await world.settle()
    assert kinds(world, case.id).count("transfer_escalated") == 1  # once
