"""A grid leader's working day by SMS: what they text back is always answered."""

from __future__ import annotations

from tests.twilio.conftest import LI_XIUYING, LONG_XIAOYAN, YAO_XIAOYAN, TwilioWorld

ROOMS = ("3-2-401", "1-1-101", "1-2-302", "5-1-102")


async def test_a_leader_walking_a_building_gets_every_visit_confirmed(world: TwilioWorld) -> None:
    """走千家: twelve visits logged by SMS in one hour are twelve answers — the cap against robot
    loops is for answers to what nobody understood, not for a leader's confirmed work."""
    world.prefer_channels("LDR-ZY01-01-1", "sms", "voice", "web")
    leader = world.phone(LONG_XIAOYAN)
    for i in range(12):
        room = ROOMS[i % len(ROOMS)]
        await leader.text(f"走访 {room} 正常")
        await world.settle()
        leader.expect_sms(room)
        world.clock.advance(minutes=4)


async def test_a_staff_phone_that_keeps_texting_nonsense_is_still_capped(world: TwilioWorld) -> None:
    """An auto-responder on a leader's phone does not loop with the hotline forever."""
    world.prefer_channels("LDR-ZY01-01-1", "sms", "voice", "web")
    leader = world.phone(LONG_XIAOYAN)
    cap = world.services.settings.twilio.max_auto_replies_per_hour
    for _ in range(cap + 3):
        await leader.text("我正在开车，稍后回复")
        await world.settle()
    assert len(leader.unread()) == cap


async def test_the_resident_reads_who_is_writing_a_member_is_not_called_the_grid_leader(world: TwilioWorld) -> None:
    """The resident was told 网格长龙小燕 has the case; when the member 姚晓燕 takes it over and writes,
    her words come as 网格员姚晓燕's, not as a second 网格长's."""
    world.prefer_channels("LDR-ZY01-01-1", "sms", "voice", "web")
    world.prefer_channels("MBR-ZY01-01-1", "sms", "voice", "web")
    resident, leader, member = world.phone(LI_XIUYING), world.phone(LONG_XIAOYAN), world.phone(YAO_XIAOYAN)
    await resident.text("俺们楼从昨天就没水了咋弄")
    await world.settle()
    await leader.reply("1 马上到，请稍等")
    await world.settle()
    resident.expect_sms("网格长龙小燕", "马上到")

    await leader.reply("1e")
    await world.settle()
    member.expect_sms("回复1接单")
    await member.reply("1")
    await member.reply("1 我是网格员，十分钟后到")
    await world.settle()
    said = resident.expect_sms("十分钟后到")
    assert said.body.startswith("网格员姚晓燕"), said.body
