"""Unclear reports: the sandbox shows the core's category buttons, and a tap pages the leader."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from gridline.kernel.services import Services
from tests.conftest import MakeServices
from tests.web.conftest import open_sandbox
from tests.web.support import Sandbox, replies


@pytest.fixture
async def unsure_sandbox(
    make_services: MakeServices, drain: Callable[[Services], Awaitable[int]]
) -> AsyncIterator[Sandbox]:
    """Every report counts as low-confidence, whatever the model says about it."""
    services = await make_services(nlu={"confidence_threshold": 0.999})
    async for client in open_sandbox(services, drain):
        yield client


async def test_low_confidence_text_gets_category_buttons_and_a_tap_pages_the_leader(unsure_sandbox: Sandbox) -> None:
    sandbox = unsure_sandbox
    resident = {"resident_id": await sandbox.resident_id("李秀英")}
    leader_id = await sandbox.staff_id("LDR-ZY01-01-1")

    chat = await sandbox.say(resident, text="门口有点问题麻烦来看看")
    question = replies(chat)[-1]
    ref = chat["cases"][0]["ref"]
    assert len(question["options"]) >= 2
    assert all(o["data"].startswith(f"cat:{ref}:") for o in question["options"])
    assert question["options"][-1]["data"] == f"cat:{ref}:other"
    assert await sandbox.inbox(leader_id) == []  # the resident gets a moment to choose first

    chat = await sandbox.say(resident, choice=f"cat:{ref}:road_facility")
    assert chat["cases"][0]["category"] == "road_facility"
    (page,) = await sandbox.inbox(leader_id)
    assert page["case"]["ref"] == ref
    assert page["case"]["category"] == "road_facility"


async def test_a_circled_digit_typed_as_text_picks_that_option(unsure_sandbox: Sandbox) -> None:
    sandbox = unsure_sandbox
    resident = {"resident_id": await sandbox.resident_id("李秀英")}
    chat = await sandbox.say(resident, text="门口有点问题麻烦来看看")
    first = replies(chat)[-1]["options"][0]["data"]
    chat = await sandbox.say(resident, text="①")  # what a Chinese keyboard offers for "1"
    assert chat["cases"][0]["category"] == first.rsplit(":", 1)[1]
