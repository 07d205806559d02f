"""Inputs that used to be answered 200 and then crash processing (issue 10): each one now gets
processed — a message row, an answer — or, if processing still cannot cope, rescued to triage."""

from __future__ import annotations

import pytest
from sqlmodel import select

from gridline.i18n import t
from gridline.storage.models import Case, CaseEvent, ChannelIdentity, InboundEvent, Resident
from tests.telegram.conftest import BOT_NAME, MakeWorld, TelegramWorld
from tests.telegram.support import inbound_events, inbound_messages

WEBHOOK = f"/webhooks/telegram/{BOT_NAME}"


def statuses(world: TelegramWorld) -> list[str]:
    return [event.status for event in inbound_events(world.services)]


@pytest.mark.parametrize("text", ["①", "²", "１"])
async def test_a_lone_unicode_digit_is_processed_and_answered(telegram_world: TelegramWorld, text: str) -> None:
    world = telegram_world
    resident = world.person(8100000101, "建国")
    await resident.says(text)
    await world.drain()
    assert statuses(world) == ["processed"]
    assert [m.text for m in inbound_messages(world.services)] == [text]
    assert resident.texts, "the resident got no answer"


@pytest.mark.postgres
async def test_nul_in_the_text_and_the_first_name_is_stripped_on_postgresql(make_telegram_world: MakeWorld) -> None:
    world = await make_telegram_world(backend="postgres")
    resident = world.person(8100000102, "建\x00国")
    await resident.says("俺们楼\x00停水了")
    await world.drain()
    assert statuses(world) == ["processed"]
    (message,) = inbound_messages(world.services)
    assert message.text == "俺们楼停水了"
    assert resident.texts, "the resident got no answer"
    with world.services.db.session() as session:
        identity = session.exec(select(ChannelIdentity).where(ChannelIdentity.external_id == "8100000102")).one()
        assert identity.display == "建国"
        resident_row = session.get(Resident, identity.resident_id)
        assert resident_row is not None and resident_row.name == "建国"


async def test_a_thousand_deep_json_body_is_refused_and_not_stored(telegram_world: TelegramWorld) -> None:
    world = telegram_world
    body = '{"update_id": 5, "message": ' + "[" * 1000 + "]" * 1000 + "}"
    response = await world.client.post(
        WEBHOOK,
        content=body,
        headers={"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": world.bot.secret_token},
    )
    assert response.status_code == 400
    assert inbound_events(world.services) == []


async def test_a_message_processing_cannot_handle_is_kept_answered_and_triaged(telegram_world: TelegramWorld) -> None:
    world = telegram_world

    async def broken(services: object, event: object) -> None:  # stands in for a bug not yet found
        raise RuntimeError("a bug in processing")

    world.services.inbound_processors["telegram"] = broken
    resident = world.person(8100000103, "秀英")
    await resident.says("楼道里有人摔倒了")
    for _ in range(3):  # the first failures are retried later (a database blip heals by itself)
        await world.drain()
        world.clock.advance(seconds=700)
    await world.drain()

    (event,) = inbound_events(world.services)
    assert event.status == "rescued"
    (message,) = inbound_messages(world.services)
    assert message.text == "楼道里有人摔倒了"
    assert message.error and "a bug in processing" in message.error
    with world.services.db.session() as session:
        case = session.exec(select(Case)).one()
        assert message.case_id == case.id
    assert case.grid_code is None and case.status in ("triage", "paged")  # the supervisors are paged
    assert any(case.ref in text for text in resident.texts), resident.texts


async def test_a_second_broken_message_joins_the_same_triage_case(telegram_world: TelegramWorld) -> None:
    world = telegram_world

    async def broken(services: object, event: object) -> None:
        raise RuntimeError("a bug in processing")

    world.services.inbound_processors["telegram"] = broken
    resident = world.person(8100000104, "秀英")
    for text in ("第一条", "第二条"):
        await resident.says(text)
        for _ in range(4):
            await world.drain()
            world.clock.advance(seconds=700)
    assert statuses(world) == ["rescued", "rescued"]
    with world.services.db.session() as session:
        (case,) = session.exec(select(Case)).all()
        # Joined, and counted once: report_count counts the people who reported it (one, twice).
        assert case.report_count == 1
        assert [e.kind for e in session.exec(select(CaseEvent).where(CaseEvent.case_id == case.id))
                if e.kind == "reported_again"] == ["reported_again"]
        assert session.exec(select(InboundEvent).where(InboundEvent.status != "rescued")).all() == []
    assert resident.texts.count(t("core.rescue.apology", "zh-CN", ref=case.ref)) == 2
