"""「不用来了，电已经来了」 by SMS: the question about the case comes with 回复1 / 回复2, and 1 withdraws it
(core.conversation.gone, routing.withdrawal; docs/deadlines.md)."""

from __future__ import annotations

from gridline.bots.twilio.sms_text import SEGMENT_BUDGET, segments
from tests.twilio.conftest import LI_XIUYING, TwilioWorld


async def test_a_text_saying_the_problem_is_gone_withdraws_the_case_with_1(world: TwilioWorld) -> None:
    resident = world.phone(LI_XIUYING)
    await resident.text("家里停电了，整栋楼都没电")
    await world.settle()
    (case,) = world.cases()
    resident.expect_sms(case.ref)

    await resident.text("不用来了，电已经来了")
    await world.settle()
    asked = resident.expect_sms(case.ref)
    assert "1" in asked.body and "2" in asked.body and segments(asked.body) <= SEGMENT_BUDGET, asked.body
    assert len(world.cases()) == 1, "nothing filed for the words"

    await resident.text("1")
    await world.settle()
    resident.expect_sms(case.ref)
    (withdrawn,) = world.cases()
    assert withdrawn.status == "closed"
