"""The console over what the core really stores — a resident's SMS through ``handle_inbound``, pages,
an acknowledgement — and its SQL (filters, Chinese search, SLA, dashboard) on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from sqlmodel import select

from gridline.app import create_app
from gridline.core.conversation import handle_inbound
from gridline.kernel.messages import InboundMessage
from gridline.kernel.services import Services
from gridline.routing.actions import act_on_case
from gridline.storage.models import Case, Staff
from tests.console.conftest import add_account, login
from tests.console.factories import CaseFactory
from tests.core.support import record_all_channels

LI_XIUYING = "+8617000010001"  # demo resident at 桐柏路199号院, grid ZY01-01-1


@pytest.fixture(params=["sqlite", "postgres"])
async def city(request, make_services) -> Services:
    services = await make_services(request.param)
    add_account(services, "admin", "admin")
    add_account(services, "sup-zhongyuan", "supervisor", grid="ZY01")
    add_account(services, "sup-lianhua", "supervisor", grid="GX01-01")
    add_account(services, "leader-long", "leader", staff="LDR-ZY01-01-1")
    return services


@pytest.fixture
async def clients(city: Services) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    app = create_app(city, run_jobs=False)
    out = {}
    for name in ("admin", "sup-zhongyuan", "sup-lianhua", "leader-long"):
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://console.test")
        assert (await login(client, name)).status_code == 303
        out[name] = client
    yield out
    for client in out.values():
        await client.aclose()


def refs_in(html: str) -> set[str]:
    return set(re.findall(r'class="ref">(\w+)<', html))


async def test_a_reported_and_acknowledged_case_reads_right_in_the_console(city, clients, drain):
    services = city
    record_all_channels(services)
    outcome = await handle_inbound(services, InboundMessage(
        channel="sms", external_id=LI_XIUYING, text="俺们楼从昨天就没水了咋弄", provider_message_id="SM1"))
    await drain(services)
    services.clock.advance(minutes=4)  # type: ignore[attr-defined]
    with services.db.session() as session:
        case = session.exec(select(Case).where(Case.ref == outcome.case_ref)).one()
        leader = session.exec(select(Staff).where(Staff.code == "LDR-ZY01-01-1")).one()
    result = await act_on_case(services, case_id=case.id or 0, staff_id=leader.id or 0, action="acknowledge",
                               channel="web")
    assert result.ok
    await drain(services)

    admin, zhongyuan, lianhua, leader_client = (clients[n] for n in
                                                ("admin", "sup-zhongyuan", "sup-lianhua", "leader-long"))
    for client in (admin, zhongyuan, leader_client):
        assert case.ref in refs_in((await client.get("/console/cases", params={"q": "没水"})).text)
    assert refs_in((await lianhua.get("/console/cases", params={"q": "没水"})).text) == set()
    assert (await lianhua.get(f"/console/cases/{case.id}")).status_code == 404

    page = (await zhongyuan.get(f"/console/cases/{case.id}")).text
    assert "俺们楼从昨天就没水了咋弄" in page
    assert "识别意图" in page and "供水" in page  # the NLU label stored by the core
    assert "龙小燕" in page and "龙小燕 已响应" in page  # paged and acknowledged
    assert "4 分钟" in page  # time to acknowledge
    assert page.count('<li><strong>') >= 2  # the routing explanation: grid and category at least

    rows = list(csv.reader(io.StringIO((await zhongyuan.get("/console/dashboard.csv")).content.decode("utf-8-sig"))))
    leader_cases = next(r for r in rows if r[0] == "按负责人" and r[2] == "龙小燕" and r[3] == "工单数")
    assert leader_cases[4] == "1"
    tta = next(r for r in rows if r[0] == "总体" and r[3] == "响应用时中位数（分钟）")
    assert tta[4] == "4.0"


async def test_filters_and_search_agree_on_both_databases(city, clients):
    factory = CaseFactory(city)
    now = factory.now
    late = factory.case(grid="ZY01-01-2", text="颍河路56号院停电，保险丝又烧了", category="power_supply",
                        created=now - timedelta(hours=3), confidence=0.33)
    fine = factory.case(grid="ZY01-01-1", text="水费涨了50%", created=now - timedelta(minutes=20),
                        staff="LDR-ZY01-01-1", ack_after=timedelta(minutes=3))
    admin = clients["admin"]

    async def listed(**params: str) -> set[str]:
        return refs_in((await admin.get("/console/cases", params=params)).text)

    assert await listed(q="保险丝") == {late.ref}
    assert await listed(q="50%") == {fine.ref}
    assert await listed(sla="breached") == {late.ref}
    assert await listed(sla="met") == {fine.ref}
    assert await listed(lowconf="1") == {late.ref}
    assert await listed(grid="ZY01-01") == {late.ref, fine.ref}
    assert await listed(unacked="1") == {late.ref}
    today = now.astimezone(__import__("zoneinfo").ZoneInfo("Asia/Shanghai")).date().isoformat()
    assert await listed(**{"from": today, "to": today}) == {late.ref, fine.ref}
    leader = refs_in((await clients["leader-long"].get("/console/cases")).text)
    assert leader == {fine.ref}
