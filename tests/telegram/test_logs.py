"""A Telegram conversation leaves no bot token, phone number or message text in the logs (issue 10)."""

from __future__ import annotations

import logging

from tests.log_scan import production_logs
from tests.telegram.conftest import TelegramWorld


async def test_a_telegram_conversation_logs_no_token_number_or_text(telegram_world: TelegramWorld) -> None:
    world = telegram_world
    with production_logs(world.services.settings) as logs:
        logging.getLogger("gridline.test").info("scenario starts")
        resident = world.person(8100000201, "王芳")
        await resident.says("桐柏路199号院停水了，我电话13812345678")
        await world.drain()
        await resident.shares_contact("+8613812345678")
        await world.drain()
        await resident.says("①")
        await world.drain()
        assert resident.texts  # the conversation happened
    token = world.bot.token
    logs.assert_free_of(token, token.split(":", 1)[1], world.bot.secret_token, "13812345678", "停水了", "王芳")
