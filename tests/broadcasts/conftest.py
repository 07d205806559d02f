"""The broadcast world: Gridline served over HTTP with the fake Twilio and the fake Telegram Bot API
beside it, the demo city, and console clients logged in as a supervisor (or any role)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
import pytest
import uvicorn

from gridline.app import create_app
from gridline.clock import FakeClock
from gridline.kernel.services import Services
from tests.console.conftest import add_account, login
from tests.telegram.conftest import BOT_NAME, bot_settings, telegram_bots
from tests.telegram.fake_bot_api import FakeBotApi, Webhook
from tests.telegram.people import TelegramPerson
from tests.twilio.conftest import ACCOUNT_SID, AUTH_TOKEN, SMS_NUMBER, VOICE_NUMBER, QuietServer, free_socket
from tests.twilio.fake_twilio import FakePhone, FakeTwilio

ACCOUNTS = {
    "sup-zhongyuan": {"role": "supervisor", "grid": "ZY01-01"},
    "sup-lianhua": {"role": "supervisor", "grid": "GX01-01"},
    "admin": {"role": "admin"},
    "leader-cheng": {"role": "leader", "staff": "LDR-GX01-01-1"},
    "auditor": {"role": "auditor"},
}


@dataclass
class BroadcastWorld:
    services: Services
    twilio: FakeTwilio
    telegram: FakeBotApi
    clock: FakeClock
    base_url: str
    token: str
    clients: list[httpx.AsyncClient] = field(default_factory=list)

    def phone(self, number: str) -> FakePhone:
        return self.twilio.phone(number)

    def telegram_user(self, user_id: int, name: str) -> TelegramPerson:
        return TelegramPerson(self.telegram, self.token, user_id, name)

    async def settle(self) -> None:
        for _ in range(60):
            ran = await self.services.jobs.run_due(self.services.handlers)
            ran += await self.twilio.settle()
            if ran == 0:
                return
        raise AssertionError("Gridline and the fakes keep talking: a loop?")

    async def step(self, seconds: float) -> None:
        self.clock.advance(timedelta(seconds=seconds))
        await self.settle()

    async def console(self, name: str) -> Console:
        client = httpx.AsyncClient(base_url=self.base_url, timeout=30)
        self.clients.append(client)
        response = await login(client, name)
        assert response.status_code == 303, response.text
        return Console(client)


@dataclass
class Console:
    client: httpx.AsyncClient

    async def csrf(self) -> str:
        page = await self.client.get("/console/broadcasts")
        found = re.search(r'data-csrf="([^"]+)"', page.text)
        assert found, page.text[:300]
        return found.group(1)

    async def draft(self, **fields: Any) -> httpx.Response:
        data: dict[str, Any] = {"csrf_token": await self.csrf(), **fields}
        return await self.client.post("/console/broadcasts", data=data)

    async def post(self, path: str) -> httpx.Response:
        return await self.client.post(path, data={"csrf_token": await self.csrf()})

    async def counts(self, broadcast_path: str) -> dict[str, Any]:
        response = await self.client.get(broadcast_path + "/counts")
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()
        return data


@pytest.fixture
async def bworld(make_services: Any, clock: FakeClock, request: pytest.FixtureRequest) -> AsyncIterator[BroadcastWorld]:
    """``@pytest.mark.parametrize("bworld", [...], indirect=True)`` picks the backend (SQLite by default)."""
    twilio = await FakeTwilio(
        account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, sms_number=SMS_NUMBER, voice_number=VOICE_NUMBER
    ).start()
    telegram = FakeBotApi()
    await telegram.start()
    sock = free_socket()
    base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    bot = bot_settings(telegram, "ptb")
    services = await make_services(
        getattr(request, "param", "sqlite"),
        server={"public_base_url": base_url},
        twilio={"account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN, "sms_number": SMS_NUMBER,
                "voice_number": VOICE_NUMBER, "api_base_url": twilio.base_url},
        telegram={"bots": {BOT_NAME: bot}},
    )
    for name, spec in ACCOUNTS.items():
        add_account(services, name, **spec)
    twilio.gridline_url = base_url
    app = create_app(services, run_jobs=False)
    server = QuietServer(uvicorn.Config(app, lifespan="off", log_level="warning", access_log=False))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    hook_client = httpx.AsyncClient(base_url=base_url, timeout=30)
    telegram.webhook_client = hook_client
    await telegram_bots(services).start()
    # 127.0.0.1 is not a public URL, so Gridline registers no webhook: point the fake at it by hand.
    telegram.webhooks[bot["token"]] = Webhook(url=telegram_bots(services).webhook_url(BOT_NAME),
                                              secret_token=bot["secret_token"], allowed_updates=None)
    world = BroadcastWorld(services, twilio, telegram, clock, base_url, bot["token"])
    try:
        yield world
    finally:
        await telegram_bots(services).close()
        for client in [*world.clients, hook_client]:
            await client.aclose()
        server.should_exit = True
        await task
        await twilio.close()
        await telegram.stop()
        sock.close()
    assert not twilio.errors, f"the fake Twilio saw problems: {twilio.errors}"
