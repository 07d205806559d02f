"""The SMS hotline end to end, as scripts: real webhooks, the real twilio client, the fake Twilio."""

from __future__ import annotations

import re

from tests.twilio.conftest import LI_XIUYING, LONG_XIAOYAN, TwilioWorld


def code_in(text: str) -> str:
    match = re.search(r"回复(\d+)", text)
    assert match, f"no reply code in {text!r}"
    return match.group(1)


async def test_resident_texts_leader_acknowledges_by_code_resident_is_told(world: TwilioWorld) -> None:
    world.prefer_channels("LDR-ZY01-01-1", "sms", "voice", "web")
    resident, leader = world.phone(LI_XIUYING), world.phone(LONG_XIAOYAN)

    answer = await resident.text("俺们楼从昨天就没水了咋弄")
    assert answer.status_code == 200 and "<Response" in answer.text
    await world.settle()

    received = resident.expect_sms("龙小燕")
    ref = world.cases()[-1].ref
    assert ref in received.body
    page = leader.expect_sms("回复")
    code = code_in(page.body)

    await leader.reply(code)
    await world.settle()

    assert "接单" in leader.expect_sms(ref).body or ref in page.body
    resident.expect_sms("龙小燕", "接单")
    case = world.case(ref)
    assert case.status == "acknowledged"
    assert case.acknowledged_by == world.staff("LDR-ZY01-01-1").id
