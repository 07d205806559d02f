"""Inbox fixtures: the demo city with real cases paged by the core to two leaders of different grids,
console accounts linked to them, and logged-in HTTP clients over the app as ``create_app`` builds it.

程振华 (LDR-GX01-01-1) leads 莲花社区第一网格 and 雷敏 (LDR-GX01-02-1) leads GX01-02-1; both have the
web inbox as their first channel, so the core's first escalation step pages them there.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import httpx
import pytest
from fastapi import FastAPI
from sqlmodel import select

import gridline.console  # noqa: F401  (registers the console's tables)
from gridline.app import create_app
from gridline.kernel.services import Services
from gridline.kernel.work import unit_of_work
from gridline.routing.cases import CaseDraft, open_case
from gridline.storage.models import Case, Page, Staff
from tests.conftest import MakeServices
from tests.console.conftest import add_account, login

CHENG, LEI = "LDR-GX01-01-1", "LDR-GX01-02-1"


@dataclass
class City:
    services: Services
    drain: Callable[[Services], Awaitable[int]]

    async def report(self, grid: str, summary: str, category: str = "water_supply") -> Case:
        """A case opened by the core in ``grid``; its first step pages whoever is on duty there."""
        async with unit_of_work(self.services) as work:
            case = open_case(
                work,
                self.services.settings,
                CaseDraft(
                    category=category,
                    priority="normal",
                    grid_code=grid,
                    summary=summary,
                    channel="sms",
                    resident_id=None,
                    address_text="莲花街100号院",
                ),
            )
        await self.drain(self.services)
        return self.case(case.id or 0)

    async def report_triage(self, summary: str) -> Case:
        """A case with no grid: the core sends it to triage and pages the supervisors on duty."""
        async with unit_of_work(self.services) as work:
            case = open_case(work, self.services.settings, CaseDraft(
                category="road_facility", priority="normal", grid_code=None, summary=summary, channel="sms",
                resident_id=None))
        await self.drain(self.services)
        return self.case(case.id or 0)

    def case(self, case_id: int) -> Case:
        with self.services.db.session() as session:
            found = session.get(Case, case_id)
            assert found is not None
            return found

    def staff_id(self, code: str) -> int:
        with self.services.db.session() as session:
            return int(session.exec(select(Staff.id).where(Staff.code == code)).one())

    def pages_of(self, case_id: int) -> list[Page]:
        with self.services.db.session() as session:
            return list(session.exec(select(Page).where(Page.case_id == case_id).order_by(Page.id)))  # type: ignore[arg-type]


@pytest.fixture(params=["sqlite", "postgres"])
async def city(request: pytest.FixtureRequest, make_services: MakeServices,
               drain: Callable[[Services], Awaitable[int]]) -> City:
    services = await make_services(request.param)
    add_account(services, "leader-cheng", "leader", staff=CHENG)
    add_account(services, "leader-lei", "leader", staff=LEI)
    add_account(services, "auditor", "auditor")
    add_account(services, "admin", "admin")
    return City(services, drain)


@pytest.fixture
def app(city: City) -> FastAPI:
    return create_app(city.services, run_jobs=False)


ClientFor = Callable[[str], Awaitable[httpx.AsyncClient]]


@pytest.fixture
async def client_for(app: FastAPI) -> AsyncIterator[ClientFor]:
    clients: list[httpx.AsyncClient] = []

    async def make(name: str) -> httpx.AsyncClient:
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://inbox.test")
        clients.append(client)
        assert (await login(client, name)).status_code == 303
        return client

    yield make
    for client in clients:
        await client.aclose()


@pytest.fixture
async def anonymous(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://inbox.test") as client:
        yield client


def csrf_in(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "page has no CSRF token"
    return found.group(1)


def refs_in(html: str) -> set[str]:
    return set(re.findall(r'class="ref">(\w+)<', html))
