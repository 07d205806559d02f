"""Two problems in one text are two cases, and the resident gets one SMS naming both references,
within the SMS budget (core.conversation.several; docs/twilio.md)."""

from __future__ import annotations

from gridline.bots.twilio.sms_text import SEGMENT_BUDGET, segments
from tests.twilio.conftest import LI_XIUYING, TwilioWorld


async def test_a_text_with_two_problems_is_answered_with_both_references(world: TwilioWorld) -> None:
    resident = world.phone(LI_XIUYING)
    await resident.text("停水了，另外电梯也坏了")
    await world.settle()

    water, lift = world.cases()
    assert (water.category, water.summary) == ("water_supply", "停水了")
    assert (lift.category, lift.summary) == ("elevator", "电梯也坏了")
    answer = resident.expect_sms(water.ref, lift.ref)
    assert "供水" in answer.body and segments(answer.body) <= SEGMENT_BUDGET, answer.body
    assert resident.unread() == [], "answered once"


async def test_a_text_whose_second_clause_says_how_long_is_one_case(world: TwilioWorld) -> None:
    resident = world.phone(LI_XIUYING)
    await resident.text("俺们楼从昨天就没水了。已经两天了")
    await world.settle()
    (case,) = world.cases()
    assert case.summary == "俺们楼从昨天就没水了。已经两天了"
    resident.expect_sms(case.ref)
