"""Console fixtures: the demo city with one account per role, case rows, and logged-in HTTP clients."""

from __future__ import annotations

import functools
import re
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI

import gridline.console  # noqa: F401  (registers the console's tables before the template database is built)
from gridline.app import create_app
from gridline.kernel.services import Services
from gridline.storage.models import ConsoleUser
from tests.console.factories import CaseFactory

PASSWORD = "grid-leader-2026"

# One account per role. Supervisors: the level-2 grid 莲花社区 (GX01-01: GX01-01-1 and GX01-01-2) and
# the level-1 grid 枫杨街道 (GX02). The leader is 程振华, leader of GX01-01-1.
ACCOUNTS = {
    "admin": {"role": "admin"},
    "sup-lianhua": {"role": "supervisor", "grid": "GX01-01"},
    "sup-fengyang": {"role": "supervisor", "grid": "GX02"},
    "leader-cheng": {"role": "leader", "staff": "LDR-GX01-01-1"},
    "auditor": {"role": "auditor"},
}


@functools.cache
def cheap_hash(password: str) -> str:
    """A real argon2id hash with small parameters: verifying it (at every test login) is fast on a
    busy two-core machine. ``create_user`` itself is tested with the production parameters."""
    return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(password)


def add_account(services: Services, name: str, role: str, grid: str | None = None, staff: str | None = None,
                password: str = PASSWORD) -> ConsoleUser:
    with services.db.session() as session:
        user = ConsoleUser(name=name, password_hash=cheap_hash(password), role=role, grid_code=grid,
                           staff_code=staff, created_at=services.clock.now())
        session.add(user)
        return user


@pytest.fixture
async def console_services(services: Services) -> Services:
    for name, spec in ACCOUNTS.items():
        add_account(services, name, **spec)
    return services


@pytest.fixture
def factory(console_services: Services) -> CaseFactory:
    return CaseFactory(console_services)


@pytest.fixture
def app(console_services: Services) -> FastAPI:
    return create_app(console_services, run_jobs=False)


def csrf_of(html: str) -> str:
    """The session's CSRF token, as the page carries it."""
    found = re.search(r'data-csrf="([^"]+)"', html)
    assert found, "page has no CSRF token"
    return found.group(1)


async def login(client: httpx.AsyncClient, name: str, password: str = PASSWORD) -> httpx.Response:
    form = await client.get("/console/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token, "login form has no CSRF token"
    return await client.post(
        "/console/login",
        data={"name": name, "password": password, "csrf_token": token.group(1), "next": "/console/cases"},
    )


ClientFor = Callable[[str], Awaitable[httpx.AsyncClient]]


@pytest.fixture
async def client_for(app: FastAPI) -> AsyncIterator[ClientFor]:
    """``await client_for("sup-lianhua")`` → an HTTP client logged in as that account."""
    clients: list[httpx.AsyncClient] = []

    async def make(name: str) -> httpx.AsyncClient:
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://console.test")
        clients.append(client)
        response = await login(client, name)
        assert response.status_code == 303, response.text
        return client

    yield make
    for client in clients:
        await client.aclose()


@pytest.fixture
async def anonymous(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://console.test") as client:
        yield client
