"""A grid leader's working day by SMS: what they text back is always answered."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from gridline.clock import as_utc
from tests.twilio.conftest import LI_XIUYING, LONG_XIAOYAN, YAO_XIAOYAN, TwilioWorld

ROOMS = ("3-2-401", "1-1-101", "1-2-302", "5-1-102")
SHANGHAI = ZoneInfo("Asia/Shanghai")


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


WAN_RUIFENG = "+8617000000051"  # 万瑞峰, 郑州自来水中原营业所
HOU_XIA = "+8617000000040"  # 侯霞, level-2 contact of ZY01-01


async def test_approving_a_reply_twice_says_it_is_approved_already(world: TwilioWorld) -> None:
    """A leader's second 通过12 (a repeated text) is told the reply was approved — not 「（—）」."""
    world.prefer_channels("LDR-ZY01-01-1", "sms", "voice", "web")
    world.prefer_channels("DEP-WATER-2", "sms", "web")
    resident, leader, department = world.phone(LI_XIUYING), world.phone(LONG_XIAOYAN), world.phone(WAN_RUIFENG)
    await leader.reply("通过1")  # nothing paged yet: unknown code
    await resident.text("俺们楼从昨天就没水了咋弄")
    await world.settle()
    await leader.reply("1")
    await world.settle()
    await leader.reply("通过1")  # acknowledged, never transferred
    await world.settle()
    leader.expect_sms("核对")
    never = leader.expect_sms("没有待办的转办")
    assert "—" not in never.body, never.body

    await leader.reply("转办1 水管爆了")
    await world.settle()
    await department.reply("签收1")
    await world.settle()
    await department.reply("回单1 已更换管道，恢复供水")
    await world.settle()
    await leader.reply("通过1")
    await world.settle()
    leader.expect_sms("审核通过")
    await leader.reply("通过1")
    await world.settle()
    again = leader.unread()[-1].body
    assert "审核通过" in again and "—" not in again, again


async def test_deadlines_in_the_department_and_extension_texts_end_at_24_00_of_their_last_day(
    world: TwilioWorld,
) -> None:
    """docs/deadlines.md: a limit that ends at midnight reads 24:00 of its last day — 「请在 12-01 24:00
    前」, not 「12-02 00:00」, which reads as a day later; so do the 延期 texts."""
    world.prefer_channels("LDR-ZY01-01-1", "sms", "voice", "web")
    world.prefer_channels("DEP-WATER-2", "sms", "web")
    world.prefer_channels("L2-ZY01-01", "sms", "web")
    resident, leader, department = world.phone(LI_XIUYING), world.phone(LONG_XIAOYAN), world.phone(WAN_RUIFENG)
    level2 = world.phone(HOU_XIA)
    await resident.text("俺们楼从昨天就没水了咋弄")  # Thursday 10:00, 3 working days
    await world.settle()
    await leader.reply("1")
    await world.settle()
    await leader.reply("延期1 3 管道要整段更换")
    await world.settle()
    asked = leader.expect_sms("延期申请")
    request = level2.expect_sms("延期申请")
    await level2.reply("同意1")
    await world.settle()
    granted = leader.expect_sms("延期已批准")
    texts = [asked.body, request.body, granted.body]
    [case] = world.cases()
    # The last day the extended limit covers, read off the stored deadline (00:00 of the day after it).
    last_day = (as_utc(case.resolve_due_at).astimezone(SHANGHAI) - timedelta(seconds=1)).strftime("%m-%d")
    assert all(f"{last_day} 24:00" in text and "00:00" not in text for text in texts), texts

    await leader.reply("转办1 水管爆了")
    await world.settle()
    await department.reply("签收1")
    await world.settle()
    accepted = department.expect_sms("已签收")
    assert "24:00" in accepted.body and "00:00" not in accepted.body, accepted.body


async def test_a_department_that_texts_the_grid_grammar_is_told_words_that_work(world: TwilioWorld) -> None:
    """12r on a transfer page is refused with what to text instead — concrete words (签收W4RGMD), no
    template braces 「签收{码}」 — and what it names works."""
    world.prefer_channels("LDR-ZY01-01-1", "sms", "voice", "web")
    world.prefer_channels("DEP-WATER-2", "sms", "web")
    resident, leader, department = world.phone(LI_XIUYING), world.phone(LONG_XIAOYAN), world.phone(WAN_RUIFENG)
    await resident.text("俺们楼从昨天就没水了咋弄")
    await world.settle()
    await leader.reply("1")
    await leader.reply("转办1 水管爆了")
    await world.settle()
    department.expect_sms("回复签收1")
    await department.reply("1r")
    await world.settle()
    [case] = world.cases()
    told = department.expect_sms("转办")
    assert "{" not in told.body and f"签收{case.ref}" in told.body, told.body

    await department.reply(f"签收{case.ref}")
    await world.settle()
    department.expect_sms("已签收")


async def test_a_case_found_on_a_visit_has_no_resident_to_tell_and_the_answers_do_not_say_so(
    world: TwilioWorld,
) -> None:
    """主动发现: the leader's own case has no resident. 接单 and 办结 say what was done — not
    「居民已收到通知」 / 「已请居民确认」, which nobody was."""
    world.prefer_channels("LDR-ZY01-01-1", "sms", "voice", "web")
    leader = world.phone(LONG_XIAOYAN)
    await leader.reply("走访 1-1-101 有问题 楼道灯坏了")
    await world.settle()
    leader.expect_sms("主动发现")
    leader.expect_sms("回复1接单")
    await leader.reply("1")
    await world.settle()
    acknowledged = leader.expect_sms("已接单")
    assert "居民" not in acknowledged.body, acknowledged.body
    await leader.reply("1r")
    await world.settle()
    resolved = leader.expect_sms("解决")
    assert "居民" not in resolved.body, resolved.body
