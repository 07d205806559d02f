"""A caller who rings the hotline again about a case someone holds (docs/twilio.md, Voice hotline):
what they say is a follow-up on that case, passed on to its holder (居民补充) like a text is — not a
new case, not 「请问那里出了什么问题？」."""

from __future__ import annotations

from tests.twilio.conftest import LI_XIUYING, LONG_XIAOYAN, TwilioWorld
from tests.twilio.test_sms_scripts import code_in


async def water_cut_taken(world: TwilioWorld) -> tuple[str, str]:
    """李秀英 calls about the water cut; 龙小燕 (pages by SMS) takes it. The case's ref, her page code."""
    world.prefer_channels("LDR-ZY01-01-1", "sms", "voice", "web")
    call = await world.phone(LI_XIUYING).call()
    await call.say("俺家从昨天就停水了，一点水都没有")
    await call.stay_silent()
    await world.settle()
    leader = world.phone(LONG_XIAOYAN)
    code = code_in(leader.expect_sms("回复").body)
    await leader.reply(code)
    await world.settle()
    (case,) = world.cases()
    return case.ref, code


async def test_a_second_call_about_a_held_case_is_passed_on_to_who_holds_it(world: TwilioWorld) -> None:
    ref, code = await water_cut_taken(world)
    leader = world.phone(LONG_XIAOYAN)

    call = await world.phone(LI_XIUYING).call()
    await call.say("在5号楼2单元东边那户，麻烦快点")
    assert "您说的情况已转告处理人龙小燕" in call.last_heard and ref in call.last_heard, call.last_heard
    assert "什么问题" not in call.last_heard and "（" not in call.last_heard, call.last_heard
    await call.stay_silent()
    await world.settle()

    told = leader.expect_sms("居民补充", ref, "5号楼2单元东边那户").body
    assert f"回复“{code} 内容”" in told, told
    assert len(world.cases()) == 1, "a follow-up is no new case"

    await leader.reply(f"{code} 好的，下午三点到")
    await world.settle()
    world.phone(LI_XIUYING).expect_sms("网格长龙小燕", "下午三点到")


async def test_the_same_problem_said_again_on_a_call_reaches_the_holder(world: TwilioWorld) -> None:
    ref, _ = await water_cut_taken(world)
    call = await world.phone(LI_XIUYING).call()
    await call.say("还是没水，一滴水都没有")
    assert "已转告" in call.last_heard and "龙小燕" in call.last_heard, call.last_heard
    await call.stay_silent()
    await world.settle()
    world.phone(LONG_XIAOYAN).expect_sms("居民补充", ref, "还是没水")
    assert len(world.cases()) == 1


async def test_another_problem_on_the_second_call_is_a_new_case(world: TwilioWorld) -> None:
    ref, _ = await water_cut_taken(world)
    call = await world.phone(LI_XIUYING).call()
    await call.say("我们楼道的灯坏了，晚上黑乎乎的")
    await call.stay_silent()
    await world.settle()
    assert len(world.cases()) == 2, "another problem is its own case"
    assert not [m for m in world.phone(LONG_XIAOYAN).unread() if "居民补充" in m.body and ref in m.body]
