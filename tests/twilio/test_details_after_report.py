"""What a resident texts right after a report is most often more about it (docs/conversation.md,
"Right after a report"): 「楼上是302的」 or 「多久能来人？」 is added to the case just reported, not
filed as a second case that pages the leader again — with one reply that splits it off when it
really is another problem."""

from __future__ import annotations

from datetime import timedelta

from tests.twilio.conftest import LI_XIUYING, TwilioWorld

LEAK = "俺家楼上一直往下漏水，天花板都泡了"


async def reported(world: TwilioWorld):
    resident = world.phone(LI_XIUYING)
    await resident.text(LEAK)
    await world.settle()
    resident.expect_sms("工单号")
    (case,) = world.cases()
    return resident, case


async def offered_to_report_apart(world: TwilioWorld):
    """The report, then 「楼上是302的」 (noise to the model): added, with 1 to report it apart."""
    resident, case = await reported(world)
    await resident.text("楼上是302的")
    await world.settle()
    resident.expect_sms(case.ref, "新问题")
    return resident, case


async def test_a_detail_the_model_reads_as_another_problem_is_added_to_the_case_just_reported(
    world: TwilioWorld,
) -> None:
    resident, case = await reported(world)

    await resident.text("楼上是302的")
    await world.settle()

    said = resident.expect_sms(case.ref, "补充", "1").body
    assert "新问题" in said, "one reply splits it off when it is another problem"
    assert [c.ref for c in world.cases()] == [case.ref], "no second case, nobody paged again"
    assert len(world.pages()) == len(world.pages(case.id))


async def test_unclear_words_right_after_a_report_are_about_that_report(world: TwilioWorld) -> None:
    resident, case = await reported(world)

    await resident.text("我家在三楼")
    await world.settle()

    said = resident.expect_sms(case.ref, "已补充").body
    assert "哪类问题" not in said and "没太明白" not in said, "not a new case, not 'not understood'"
    assert [c.ref for c in world.cases()] == [case.ref]


async def test_replying_1_files_the_detail_as_a_new_case_of_its_own(world: TwilioWorld) -> None:
    resident, case = await offered_to_report_apart(world)

    await resident.text("1")
    await world.settle()

    first, second = world.cases()
    assert first.ref == case.ref
    assert second.category == "noise" and second.summary == "楼上是302的"
    resident.expect_sms("已受理", second.ref)
    assert world.pages(second.id), "the new case pages its grid"

    await resident.text("1")
    await world.settle()
    assert len(world.cases()) == 2, "the same choice twice files it once"


async def test_the_choice_to_report_apart_stays_good_after_more_words(world: TwilioWorld) -> None:
    resident, case = await offered_to_report_apart(world)
    await resident.text("我家在三楼")
    await world.settle()
    resident.expect_sms(case.ref, "已补充")

    await resident.text("1")
    await world.settle()

    assert [c.summary for c in world.cases()][1:] == ["楼上是302的"]


async def test_words_that_say_what_is_wrong_are_a_report_of_their_own(world: TwilioWorld) -> None:
    resident, case = await reported(world)

    await resident.text("另外小区门口的路灯坏了好几天了")
    await world.settle()

    assert [c.category for c in world.cases()] == [case.category, "road_facility"]


async def test_a_whole_report_of_another_problem_is_a_case_of_its_own_even_without_a_word_for_wrong(
    world: TwilioWorld,
) -> None:
    resident, case = await reported(world)

    await resident.text("楼上半夜还在弹钢琴，一弹就是两个钟头")
    await world.settle()

    assert [c.category for c in world.cases()] == [case.category, "noise"]


async def test_after_a_quiet_half_hour_the_same_words_are_a_new_case(world: TwilioWorld) -> None:
    resident, _ = await reported(world)
    world.clock.advance(timedelta(minutes=31))

    await resident.text("楼上是302的")
    await world.settle()

    assert len(world.cases()) == 2


async def test_an_emergency_right_after_a_report_is_never_held_back_as_a_detail(world: TwilioWorld) -> None:
    resident, case = await reported(world)

    await resident.text("快来人！三楼厨房冒黑烟了")
    await world.settle()

    emergency = world.cases()[-1]
    assert emergency.ref != case.ref and emergency.priority == "emergency"
