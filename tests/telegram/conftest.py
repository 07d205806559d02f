"""Telegram fixtures: the fake Bot API server, and each test run on both libraries."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.telegram.fake_bot_api import FakeBotApi

FRAMEWORKS = ("ptb", "aiogram")


@pytest.fixture
async def fake_api() -> AsyncIterator[FakeBotApi]:
    """A fake Telegram Bot API listening on a free port of 127.0.0.1."""
    fake = FakeBotApi()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture(params=FRAMEWORKS)
def framework(request: pytest.FixtureRequest) -> str:
    """python-telegram-bot or aiogram: the same behaviour is expected from both."""
    return str(request.param)
