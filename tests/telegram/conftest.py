"""Telegram fixtures: the fake Bot API server, and each test run on both libraries."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from gridline.app import create_app
from gridline.bots.telegram.bots import TelegramBots
from gridline.clock import FakeClock
from gridline.kernel.services import Services
from gridline.settings import TelegramBotSettings
from tests.conftest import MakeServices
from tests.telegram.fake_bot_api import FakeBotApi
from tests.telegram.people import TelegramPerson

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


# -- Gridline with Telegram bots, talking to the fake server ------------------------------------------

BOT_NAME = "city"
PUBLIC_URL = "https://gridline.example.org"



def telegram_bots(services: Services) -> TelegramBots:
    """The process's Telegram bots (installed by ``create_app``)."""
    bots = services.parts.get(TelegramBots)
    assert bots is not None, "create_app(services) installs the Telegram channel"
    return bots

@dataclass
class TelegramWorld:
    """Gridline (app + services) with one Telegram bot wired to the fake Bot API."""

    services: Services
    app: FastAPI
    fake: FakeBotApi
    client: httpx.AsyncClient
    bot: TelegramBotSettings
    bot_name: str
    drain_jobs: Callable[[Services], Awaitable[int]]
    other_bots: dict[str, TelegramBotSettings] = field(default_factory=dict)

    @property
    def clock(self) -> FakeClock:
        assert isinstance(self.services.clock, FakeClock)
        return self.services.clock

    @property
    def token(self) -> str:
        return self.bot.token

    def person(self, user_id: int, first_name: str, *, bot: str | None = None, **kwargs: Any) -> TelegramPerson:
        """Someone writing to bot ``bot`` (default: the world's main bot)."""
        token = self.other_bots[bot].token if bot and bot != self.bot_name else self.token
        return TelegramPerson(self.fake, token, user_id, first_name, **kwargs)

    async def drain(self) -> int:
        """Run every job due now: processing stored updates, deliveries, escalation steps."""
        return await self.drain_jobs(self.services)

    async def post(self, update: dict[str, Any], *, secret: str | None = None) -> httpx.Response:
        """POST an update to the webhook, optionally with a wrong secret (``""`` = no header)."""
        return await self.fake.deliver(self.token, update, secret_token=secret)


def bot_settings(fake: FakeBotApi, framework: str, **extra: Any) -> dict[str, Any]:
    return {
        "token": "100001:TEST-city-bot",
        "secret_token": "webhook-s3cret-for-tests",
        "api_base_url": fake.url,
        "framework": framework,
        "audience": "both",
        **extra,
    }


MakeWorld = Callable[..., Awaitable[TelegramWorld]]


@pytest.fixture
async def make_telegram_world(
    make_services: MakeServices, fake_api: FakeBotApi, framework: str, drain: Callable[[Services], Awaitable[int]]
) -> AsyncIterator[MakeWorld]:
    """Factory: Gridline on the demo city with bot ``city`` on ``framework``, started as at start-up.

    ``public_url`` is ``server.public_base_url`` (public → the webhook is registered with the fake);
    ``start=False`` leaves start-up to the test;
    ``backend`` is a ``tests.conftest.BACKENDS`` name; ``settings`` overrides other Gridline settings (e.g.
    ``{"nlu": {...}}``); ``other_bots`` adds bots (name → settings overrides, e.g. ``token``);
    other keywords override the main bot's settings.
    """
    clients: list[httpx.AsyncClient] = []
    started: list[Services] = []

    async def factory(
        *,
        public_url: str = PUBLIC_URL,
        start: bool = True,
        backend: str = "sqlite",
        settings: dict[str, Any] | None = None,
        other_bots: dict[str, dict[str, Any]] | None = None,
        **bot_overrides: Any,
    ) -> TelegramWorld:
        config = bot_settings(fake_api, framework, **bot_overrides)
        others = {name: {**bot_settings(fake_api, framework), **extra} for name, extra in (other_bots or {}).items()}
        services = await make_services(
            backend,
            telegram={"bots": {BOT_NAME: config, **others}},
            server={"public_base_url": public_url},
            **(settings or {}),
        )
        app = create_app(services, run_jobs=False)
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=public_url)
        clients.append(client)
        fake_api.webhook_client = client
        if start:
            await telegram_bots(services).start()  # getMe, then setWebhook or polling
            started.append(services)
        return TelegramWorld(
            services=services,
            app=app,
            fake=fake_api,
            client=client,
            bot=TelegramBotSettings(**config),
            bot_name=BOT_NAME,
            drain_jobs=drain,
            other_bots={name: TelegramBotSettings(**extra) for name, extra in others.items()},
        )

    yield factory
    for services in started:
        await telegram_bots(services).close()
    for client in clients:
        await client.aclose()


@pytest.fixture
async def telegram_world(make_telegram_world: MakeWorld) -> TelegramWorld:
    """Gridline with bot ``city`` whose webhook is registered with the fake Bot API."""
    return await make_telegram_world()
