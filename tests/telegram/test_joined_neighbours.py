"""A neighbour whose report joined a case (「已有 2 人反映」) follows it: a photo they send goes on the case
they joined, recorded as theirs, where the console's timeline shows it — not on a new case of its own;
the leader's words about it reach them too."""

from __future__ import annotations

from sqlmodel import select

from gridline.storage.models import CaseEvent
from tests.telegram.conftest import TelegramWorld
from tests.telegram.support import cases, inbound_messages, only_case, pages, resident_of
from tests.telegram.test_conversations import LIAO_ZHIQIANG, register_by_location

NEIGHBOUR = 8100000002


async def test_a_photo_from_a_neighbour_who_joined_goes_on_the_case_they_joined(telegram_world: TelegramWorld):
    world = telegram_world
    first = await register_by_location(world)
    await first.says("单元门口的水管爆了，水漫出来了")
    await world.drain()
    case = only_case(world.services)
    paged = len(pages(world.services))
    neighbour = await register_by_location(world, NEIGHBOUR, "秀兰")
    await neighbour.says("楼下的水管爆了，到处都是水")
    await world.drain()
    assert only_case(world.services).report_count == 2, "the neighbour joined the case"

    await neighbour.sends_photo(file_id="neighbour-pipe")
    await world.drain()
    assert [c.id for c in cases(world.services)] == [case.id], "no case of its own"
    assert len(pages(world.services)) == paged, "nobody is paged again about a photo"
    answer = neighbour.last_message.text or ""
    assert case.ref in answer and "附在工单" in answer, answer
    who = resident_of(world.services, NEIGHBOUR, world.bot_name)
    assert who is not None
    with world.services.db.session() as session:
        events = session.exec(select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.kind == "media")).all()
    assert [(e.actor, e.data["media"][0]["file_id"]) for e in events] == [(f"resident:{who.id}", "neighbour-pipe")]
    # The photo's own message is filed on the case: the console's timeline lists the case's messages.
    [photo] = [m for m in inbound_messages(world.services) if m.media]
    assert (photo.case_id, photo.resident_id) == (case.id, who.id)


async def test_the_leaders_words_reach_the_neighbour_who_joined_and_their_answer_stays_on_the_case(
    telegram_world: TelegramWorld,
):
    """A leader's reply to the page is relayed to everyone who reported the problem (they follow the
    case); it reached only the one who opened it."""
    world = telegram_world
    first = await register_by_location(world)
    leader = world.person(LIAO_ZHIQIANG, "志强")
    await first.says("电梯坏了好几天了")
    await world.drain()
    case = only_case(world.services)
    neighbour = await register_by_location(world, NEIGHBOUR, "秀兰")
    await neighbour.says("电梯坏了，一直不动")
    await world.drain()
    assert only_case(world.services).report_count == 2, "the neighbour joined the case"
    await leader.taps("接单")
    await world.drain()

    await leader.says("您好，我们下午三点派人去看电梯", reply_to=leader.last_with_button("已解决"))
    await world.drain()
    for resident in (first, neighbour):
        relayed = resident.last_message.text or ""
        assert "下午三点" in relayed and case.ref in relayed and "廖志强" in relayed, relayed
    told = leader.last_message.text or ""
    assert "2 位居民" in told and case.ref in told, told

    paged = len(pages(world.services))
    await neighbour.says("好的，我下午三点在家等着", reply_to=neighbour.last_message)
    await world.drain()
    assert [c.id for c in cases(world.services)] == [case.id] and len(pages(world.services)) == paged
    said = [m for m in inbound_messages(world.services) if m.text == "好的，我下午三点在家等着"]
    assert said and said[0].case_id == case.id, "the neighbour's answer is on the case's log"
