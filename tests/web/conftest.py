"""The sandbox app over an in-memory transport, on services with the demo city loaded."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest

from gridline.app import create_app
from gridline.kernel.services import Services
from tests.web.support import Sandbox


async def open_sandbox(services: Services, drain: Callable[[Services], Awaitable[int]]) -> AsyncIterator[Sandbox]:
    app = create_app(services, run_jobs=False, sandbox=True)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox.test") as http:
        yield Sandbox(http=http, services=services, drain_jobs=drain)


@pytest.fixture
async def sandbox(services: Services, drain: Callable[[Services], Awaitable[int]]) -> AsyncIterator[Sandbox]:
    """The sandbox on SQLite; jobs run only when a test calls ``sandbox.drain()``."""
    async for client in open_sandbox(services, drain):
        yield client
