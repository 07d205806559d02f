"""A resident's follow-up words on a case someone holds reach that person (docs/twilio.md, 居民补充):
the leader who asked 「请问是几楼？」 by SMS gets the answer by SMS, with the code that relays theirs."""

from __future__ import annotations

from tests.twilio.conftest import LI_XIUYING, LONG_XIAOYAN, TwilioWorld
from tests.twilio.test_sms_scripts import code_in


async def test_the_leader_who_asked_which_floor_gets_the_residents_answer_by_sms(world: TwilioWorld) -> None:
    world.prefer_channels("LDR-ZY01-01-1", "sms", "voice", "web")
    resident, leader = world.phone(LI_XIUYING), world.phone(LONG_XIAOYAN)
    await resident.text("俺们楼从昨天就没水了咋弄")
    await world.settle()
    code = code_in(leader.expect_sms("回复").body)
    ref = world.cases()[-1].ref
    await leader.reply(f"{code}")
    await leader.reply(f"{code} 请问是几楼？")
    await world.settle()
    resident.expect_sms("网格长龙小燕", "请问是几楼")
    leader.expect_sms("已转告居民")

    await resident.text("5楼，东边那户")
    await world.settle()
    told = leader.expect_sms("居民补充", ref, "5楼，东边那户").body
    assert f"回复“{code} 内容”" in told, told
    resident.expect_sms("已转告", "龙小燕", ref)
    assert len(world.cases()) == 1, "the answer is no new case"

    await leader.reply(f"{code} 好的，马上派人")
    await world.settle()
    resident.expect_sms("网格长龙小燕", "马上派人")


async def test_words_on_a_case_nobody_holds_yet_are_logged_and_not_passed_on(world: TwilioWorld) -> None:
    world.prefer_channels("LDR-ZY01-01-1", "sms", "voice", "web")
    resident, leader = world.phone(LI_XIUYING), world.phone(LONG_XIAOYAN)
    await resident.text("俺们楼从昨天就没水了咋弄")
    await world.settle()
    leader.expect_sms("回复")
    await resident.text("还是没水，5号楼一滴水都没有")
    await world.settle()
    resident.expect_sms("您已反映过", "待接单")
    assert not [m for m in leader.unread() if "居民补充" in m.body]
