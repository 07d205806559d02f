"""A 平安守护 check-in on Telegram: the question comes with two buttons, a tap answers it, a tap on
an old or someone else's question is refused without effect (the real PTB / aiogram runtimes,
through the fake Bot API)."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import col, select

from gridline.storage.models import CheckIn, Household, HouseholdPerson, Resident
from tests.telegram.conftest import TelegramWorld
from tests.telegram.test_conversations import register_by_location

WU = "+8617000020006"  # 吴振华, GX01-01-2 8-2-602 (the demo household did not consent: it does here)


def opt_in_on_telegram(world: TelegramWorld, resident_name: str = "建国") -> None:
    with world.services.db.session() as session:
        resident = session.exec(select(Resident).where(col(Resident.name).contains(resident_name))).one()
        person = session.exec(select(HouseholdPerson).where(HouseholdPerson.phone == WU)).one()
        household = session.get(Household, person.household_id)
        assert household is not None
        household.consent_checkin = True
        person.resident_id = resident.id
        local = world.clock.now() + timedelta(hours=8, minutes=30)  # 30 minutes from now, in Zhengzhou
        person.checkin_channel, person.checkin_time = "telegram", local.strftime("%H:%M")
        session.add_all([household, person])


def checkins(world: TelegramWorld) -> list[CheckIn]:
    with world.services.db.session() as session:
        return list(session.exec(select(CheckIn).order_by(col(CheckIn.id))))


async def test_a_telegram_check_in_answered_with_the_button(telegram_world: TelegramWorld) -> None:
    world = telegram_world
    resident = await register_by_location(world)
    opt_in_on_telegram(world)
    await world.drain()
    world.clock.advance(minutes=30)
    await world.drain()

    question = resident.last_with_button("报平安")
    assert "平安守护" in question.text
    help_data = question.button("需要帮助")["callback_data"]
    await resident.taps("报平安", question)
    await world.drain()

    assert "平安就好" in resident.last_message.text
    (today, _tomorrow) = checkins(world)
    assert today.status == "ok" and today.channel == "telegram"

    assert not [m for m in resident.inbox if "报平安" in m.button_labels]  # the buttons are gone once answered
    # The other button of the answered question (a stale client): nothing changes, and it says so.
    await resident.taps_data(help_data, question)
    await world.drain()
    assert "已经结束" in resident.last_message.text
    assert checkins(world)[0].status == "ok"


async def test_someone_elses_check_in_button_is_refused(telegram_world: TelegramWorld) -> None:
    world = telegram_world
    resident = await register_by_location(world)
    opt_in_on_telegram(world)
    world.clock.advance(minutes=30)
    await world.drain()
    question = resident.last_with_button("需要帮助")
    stranger = await register_by_location(world, user_id=8100000099, name="路人")
    await stranger.taps_data(question.button("需要帮助")["callback_data"], question)
    await world.drain()
    # The signed button of another chat does nothing (the bot refuses it, or the core finds it is not theirs).
    assert checkins(world)[0].status == "asked" and checkins(world)[0].case_id is None
