"""Any resident asks for a case by its reference by SMS: their own, or with the reporter's last four digits."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from gridline.clock import as_utc
from tests.conftest import BACKENDS
from tests.twilio.conftest import LI_XIUYING, ZHAO_DEMING, TwilioWorld


async def report(world: TwilioWorld) -> str:
    resident = world.phone(LI_XIUYING)
    await resident.text("俺们楼从昨天就没水了咋弄")
    await world.settle()
    resident.expect_sms("龙小燕")
    return world.cases()[-1].ref


@pytest.mark.parametrize("world", ["sqlite", "postgres"], indirect=True)
async def test_the_reporter_asks_by_reference_and_gets_stage_holder_and_deadline(world: TwilioWorld) -> None:
    ref = await report(world)
    case = world.case(ref)
    resident = world.phone(LI_XIUYING)
    await resident.text(f"查询 {ref.lower()}")
    await world.settle()
    answer = resident.expect_sms(f"工单 {ref}")
    assert "停水" in answer.body or "供水" in answer.body
    assert case.resolve_due_at is not None
    local = as_utc(case.resolve_due_at).astimezone(ZoneInfo("Asia/Shanghai"))
    due = local.strftime("%Y-%m-%d %H:%M")
    if local.strftime("%H:%M") == "00:00":  # a working-day limit: 24:00 of its last day (docs/deadlines.md)
        due = (local - timedelta(days=1)).strftime("%Y-%m-%d 24:00")
    assert f"办理时限：{due}" in answer.body  # the deadline in local time
    assert "处理人" in answer.body


@pytest.mark.parametrize("world", BACKENDS[:1], indirect=True)
async def test_someone_elses_case_needs_the_reporters_last_four_digits(world: TwilioWorld) -> None:
    ref = await report(world)
    neighbour = world.phone(ZHAO_DEMING)
    await neighbour.text(f"查询 {ref}")
    await world.settle()
    refused = neighbour.expect_sms("没有找到")
    assert "处理人" not in refused.body
    await neighbour.text(f"查询 {ref} 9999")  # wrong digits: the same answer as an unknown reference
    await world.settle()
    assert neighbour.expect_sms("没有找到").body == refused.body
    await neighbour.text(f"查询 {ref} {LI_XIUYING[-4:]}")
    await world.settle()
    assert "处理人" in neighbour.expect_sms(f"工单 {ref}").body


@pytest.mark.parametrize("world", BACKENDS[:1], indirect=True)
async def test_an_unknown_reference_is_answered_plainly_and_opens_no_case(world: TwilioWorld) -> None:
    resident = world.phone(ZHAO_DEMING)
    before = len(world.cases())
    await resident.text("status ZZZZ99")
    await world.settle()
    assert "ZZZZ99" in resident.expect_sms("没有找到").body
    assert len(world.cases()) == before


@pytest.mark.parametrize("world", BACKENDS[:1], indirect=True)
async def test_a_case_nobody_has_taken_yet_reads_not_taken_not_a_dash(world: TwilioWorld) -> None:
    ref = await report(world)
    case = world.case(ref)
    assert case.acknowledged_by is None and case.assignee_staff_id is None  # the page is still out
    resident = world.phone(LI_XIUYING)
    await resident.text(f"查询 {ref}")
    await world.settle()
    by_ref = resident.expect_sms(f"工单 {ref}").body
    assert "处理人：待接单" in by_ref and "—" not in by_ref
    await resident.text("状态")
    await world.settle()
    listed = resident.expect_sms(ref).body
    assert "处理人：待接单" in listed and "—" not in listed
    await resident.text("俺们楼从昨天就没水了咋弄，还是没水")  # the same problem again: a follow-up
    await world.settle()
    followed = resident.expect_sms("您已反映过").body
    assert "处理人：待接单" in followed and "—" not in followed
