"""A question right after a report asks about it: 「what's the status?」 or 「有人管吗？」, which the
model does not place, is answered with the resident's open cases (their stage and holder) — not
added to the case as a detail (「Added to case …」 answered nothing) nor "not understood"."""

from __future__ import annotations

import pytest

from tests.twilio.conftest import LI_XIUYING, TwilioWorld


@pytest.mark.parametrize("question", ["what's the status?", "有人管吗？", "到底有没有人来啊?"])
async def test_a_question_after_a_report_gets_the_case_status(world: TwilioWorld, question: str) -> None:
    resident = world.phone(LI_XIUYING)
    await resident.text("小区门口的路灯坏了好几天了")
    await world.settle()
    ref = world.cases()[0].ref
    resident.expect_sms(ref)
    await resident.text(question)
    await world.settle()
    answer = resident.expect_sms(ref).body
    assert "已补充" not in answer and "Added to" not in answer, answer
    assert "没太明白" not in answer, answer
    assert len(world.cases()) == 1
