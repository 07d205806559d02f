"""走千家 on Telegram, end to end: the list of visits owed with buttons, one tap logs a visit."""

from __future__ import annotations

from datetime import timedelta

import pytest

from gridline.bots.telegram.linking import issue_link_code
from tests.conftest import BACKENDS
from tests.telegram.conftest import MakeWorld, TelegramWorld
from tests.telegram.people import TelegramPerson
from tests.visits.support import ALONE, all_visits, case, open_visit, staff

MEMBERS = ("MBR-ZY01-01-1", "MBR2-ZY01-01-1")


async def linked_owner(world: TelegramWorld) -> tuple[str, TelegramPerson]:
    """The member who owes 1-1-101's visit, with Telegram linked (it becomes their first channel)."""
    await world.drain()  # the reconciler plans the roster's visits
    visit = open_visit(world.services, ALONE)
    (code,) = [c for c in MEMBERS if staff(world.services, c).id == visit.staff_id]
    with world.services.db.session() as session:
        issued = issue_link_code(
            session, code, now=world.clock.now(), secret_key=world.services.settings.server.secret_key
        )
    phone = world.person(7100000077, "网格员")
    await phone.says(f"/start {issued.code}")
    await world.drain()
    assert "绑定成功" in phone.last_message.text
    return code, phone


@pytest.mark.parametrize("backend", BACKENDS)
async def test_the_digest_lists_visits_owed_and_one_tap_logs_one(make_telegram_world: MakeWorld, backend: str):
    world = await make_telegram_world(backend=backend)
    code, phone = await linked_owner(world)
    visit = open_visit(world.services, ALONE)

    world.clock.set(visit.due_at - timedelta(days=1, hours=2))  # the morning before it is due
    await world.drain()
    world.clock.advance(seconds=30)  # digests are bulk: paced in the bot's lane
    await world.drain()
    digest = phone.last_with_button("1-1-101 正常")
    assert "待走访" in (digest.text or "") and "1-1-101" in (digest.text or "")
    assert "1-1-101 有问题" in digest.button_labels

    await phone.taps("1-1-101 正常", digest)
    await world.drain()
    assert "已记录" in phone.last_answer.get("text", "")
    (done,) = [v for v in all_visits(world.services) if v.id == visit.id]
    assert (done.status, done.outcome, done.channel) == ("done", "ok", "telegram")
    assert done.done_by == staff(world.services, code).id

    # The same button again: already logged, nothing changes.
    await phone.taps("1-1-101 正常", digest)
    await world.drain()
    assert "已经记录" in phone.last_answer.get("text", "") and phone.last_answer.get("show_alert")
    assert len([v for v in all_visits(world.services) if v.household_id == done.household_id]) == 2


async def test_visits_command_and_a_problem_button_open_a_proactive_case(make_telegram_world: MakeWorld):
    world = await make_telegram_world()
    _, phone = await linked_owner(world)
    visit = open_visit(world.services, ALONE)
    world.clock.set(visit.due_at - timedelta(hours=30))  # within the three days the list shows
    await phone.says("/visits")
    await world.drain()
    listing = phone.last_with_button("1-1-101 有问题")
    await phone.taps("1-1-101 有问题", listing)
    await world.drain()
    assert "主动发现" in phone.last_answer.get("text", "")
    (done,) = [v for v in all_visits(world.services) if v.id == visit.id]
    found = case(world.services, done.case_id or 0)
    assert found.proactive and found.grid_code == "ZY01-01-1" and "1-1-101" in found.summary


async def test_a_visit_typed_to_the_bot_is_logged_and_bad_ones_refused(make_telegram_world: MakeWorld):
    world = await make_telegram_world()
    _, phone = await linked_owner(world)
    visit = open_visit(world.services, ALONE)
    await phone.says("走访 2-301 正常")  # ZY01-01-2's household
    await world.drain()
    assert "不是您所在网格" in phone.last_message.text
    await phone.says("visit 1-1-101 ok all well")
    await world.drain()
    assert "已记录" in phone.last_message.text
    (done,) = [v for v in all_visits(world.services) if v.id == visit.id]
    assert (done.status, done.note, done.channel) == ("done", "all well", "telegram")
