"""A visit's deadline reads the same in every text: the answer to 「走访 … 正常」 (下次走访 … 前), the
overdue notice (应于 … 前走访) and the digest — ``2026-12-10 20:00``, as the department loop's
deadlines (``routing.deadlines.local_deadline``); a due time of midnight is 24:00 of the day before,
not 00:00 of a day that reads a day late. The answer said a bare date (「下次走访 2026-12-10 前」,
which reads "by the 9th") and the notice 「12-10 20:00」."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest

from gridline.kernel.services import Services
from gridline.routing.deadlines import local_deadline
from tests.conftest import MakeServices
from tests.twilio.conftest import TwilioWorld
from tests.visits.by_sms.test_visits_sms import owner_phone
from tests.visits.support import ALONE, VISITS_ON, open_visit


@pytest.fixture(params=["20:00", "00:00"])
def due_time(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def make_services(make_services: MakeServices, due_time: str) -> MakeServices:
    async def factory(backend: str = "sqlite", **overrides: Any) -> Services:
        overrides["visits"] = {**VISITS_ON, "due_time": due_time}
        return await make_services(backend, **overrides)

    return factory


async def test_the_logged_answer_and_the_overdue_notice_name_the_deadline_alike(
    world: TwilioWorld, due_time: str
) -> None:
    await world.settle()
    _, number = owner_phone(world)
    member = world.phone(number)
    await member.text("走访 1-1-101 正常")
    await world.settle()
    answer = member.expect_sms("已记录", "1-1-101").body
    following = open_visit(world.services, ALONE)
    due = local_deadline(world.services.settings.timezone, following.due_at)
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", due)
    assert due.endswith("24:00" if due_time == "00:00" else due_time), due
    assert f"下次走访 {due} 前" in answer, answer

    world.clock.set(following.due_at - timedelta(hours=1))
    await world.settle()
    world.clock.advance(seconds=30)
    await world.settle()
    digest = member.expect_sms("1-1-101", "走访").body
    assert f"{due} 前" in digest, digest

    world.clock.set(following.due_at + timedelta(minutes=1))
    await world.settle()
    notice = member.expect_sms("走访逾期", "1-1-101").body
    assert f"应于 {due} 前走访" in notice, notice
