"""Sweeps and check-in opt-ins in the console: a supervisor starts a sweep for grids of their chain,
its coverage updates live as residents answer, bad input is refused with a clear 400 and writes
nothing, and a leader sets a member's check-in channel, time and days (audited)."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlmodel import select

from gridline.core.conversation import handle_inbound
from gridline.kernel.messages import InboundMessage
from gridline.storage.models import AuditLog, CheckIn, HouseholdPerson, Sweep
from tests.console.browser import LiveServer
from tests.console.conftest import csrf_of, login
from tests.core.support import record_all_channels

MA_YUZHEN = "+8617000020004"  # GX01-01-1 6-1-502 (高龄)
HE_XIULAN = "+8617000020005"  # GX01-01-1 2-3-101


def sweeps(services) -> list[Sweep]:
    with services.db.session() as session:
        return list(session.exec(select(Sweep)))


async def start(client: httpx.AsyncClient, **form: object) -> httpx.Response:
    token = csrf_of((await client.get("/console/sweeps")).text)
    return await client.post("/console/sweeps", data={"csrf_token": token, **form})  # type: ignore[dict-item]


async def test_a_supervisor_starts_a_sweep_of_their_grids_and_sees_its_coverage(
    client_for, console_services, clock
) -> None:
    sent = record_all_channels(console_services)
    supervisor = await client_for("sup-lianhua")
    page = await supervisor.get("/console/sweeps")
    assert page.status_code == 200 and 'value="GX01-01-1"' in page.text and 'value="ZY01-01-1"' not in page.text
    assert 'data-week="asked">0<' in page.text and "回复率" in page.text  # the week's check-in measures

    started = await start(supervisor, reason="cold_wave", grids=["GX01-01-1", "GX01-01-2"])

    assert started.status_code == 303
    (sweep,) = sweeps(console_services)
    assert started.headers["location"] == f"/console/sweeps/{sweep.id}"
    assert sweep.households == 3 and sweep.grid_codes == ["GX01-01-1", "GX01-01-2"]
    for _ in range(3):  # paced: a text a second
        await console_services.jobs.run_due(console_services.handlers)
        clock.advance(seconds=1)
    assert {m.target for m in sent["sms"].messages} == {MA_YUZHEN, HE_XIULAN, "+8617000020006"}
    shown = await supervisor.get(f"/console/sweeps/{sweep.id}")
    assert shown.status_code == 200 and "寒潮" in shown.text
    assert re.search(r'data-cov="asked">3<', shown.text)
    with console_services.db.session() as session:
        (entry,) = session.exec(select(AuditLog).where(AuditLog.action == "sweep.start")).all()
    assert entry.actor == "console:sup-lianhua" and entry.detail["households"] == 3
    other = await client_for("sup-fengyang")
    assert (await other.get(f"/console/sweeps/{sweep.id}")).status_code == 404  # not their grids


@pytest.mark.parametrize(
    ("form", "says"),
    [
        ({"reason": "tornado", "grids": ["GX01-01-1"]}, "未知的排查原因"),
        ({"reason": "cold_wave"}, "请至少选择一个网格"),
        ({"reason": "cold_wave", "grids": ["ZY01-01-1"]}, "不在您的范围内"),  # another chain's grid
        ({"reason": "cold_wave", "grids": ["GX01-01-1"], "tags": ["vip"]}, "未知标签"),
        ({"reason": "cold_wave", "grids": ["GX01-01-2"], "tags": ["disabled"]}, "没有住户"),
    ],
)
async def test_bad_sweep_input_is_a_clear_400_and_writes_nothing(client_for, console_services, form, says) -> None:
    supervisor = await client_for("sup-lianhua")
    refused = await start(supervisor, **form)
    assert refused.status_code == 400 and says in refused.text
    assert sweeps(console_services) == []
    with console_services.db.session() as session:
        assert session.exec(select(CheckIn)).all() == []


async def test_leaders_and_auditors_cannot_start_a_sweep(client_for, console_services) -> None:
    for name in ("leader-cheng", "auditor"):
        client = await client_for(name)
        assert (await start(client, reason="cold_wave", grids=["GX01-01-1"])).status_code == 403
    assert sweeps(console_services) == []


@pytest.fixture
async def server(app) -> AsyncIterator[LiveServer]:
    live = LiveServer(app)
    await live.start()
    yield live
    await live.stop()


async def test_coverage_updates_live_as_residents_answer(server: LiveServer, console_services) -> None:
    record_all_channels(console_services)
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
        assert (await login(client, "sup-lianhua")).status_code == 303
        started = await start(client, reason="power_outage", grids=["GX01-01-1"])
        sweep_id = int(started.headers["location"].rsplit("/", 1)[1])
        server.call(console_services.jobs.run_due(console_services.handlers))
        async with client.stream("GET", f"/console/sweeps/{sweep_id}/events") as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            lines = stream.aiter_lines()

            async def next_coverage() -> dict:
                async for line in lines:
                    if line.startswith("data: "):
                        return json.loads(line[len("data: ") :])
                raise AssertionError("the stream ended")

            first = await asyncio.wait_for(next_coverage(), 10)
            assert (first["asked"], first["ok"], first["help"], first["waiting"]) == (2, 0, 0, 2)
            server.call(
                handle_inbound(console_services, InboundMessage(channel="sms", external_id=MA_YUZHEN, text="1"))
            )
            after = await asyncio.wait_for(next_coverage(), 10)
            assert (after["ok"], after["waiting"]) == (1, 1)
            server.call(
                handle_inbound(console_services, InboundMessage(channel="sms", external_id=HE_XIULAN, text="2"))
            )
            last = await asyncio.wait_for(next_coverage(), 10)
            assert (last["ok"], last["help"], last["waiting"]) == (1, 1, 0)


async def test_a_leader_sets_a_members_check_in_and_bad_values_are_refused(client_for, console_services) -> None:
    with console_services.db.session() as session:
        person = session.exec(select(HouseholdPerson).where(HouseholdPerson.phone == MA_YUZHEN)).one()
    leader = await client_for("leader-cheng")
    page = await leader.get(f"/console/households/{person.household_id}")
    assert "平安守护" in page.text
    token = csrf_of(page.text)
    url = f"/console/households/{person.household_id}/checkin/{person.id}"
    for bad, error in (({"time": "25:00"}, "checkin_time"), ({"days": "8"}, "checkin_days"),
                       ({"channel": "fax"}, "checkin_channel")):  # fmt: skip
        refused = await leader.post(url, data={"csrf_token": token, "channel": "sms", **bad})
        assert refused.status_code == 303 and f"error={error}" in refused.headers["location"]
        shown = await leader.get(refused.headers["location"])
        assert "HH:MM" in shown.text or "1-7" in shown.text or "渠道" in shown.text
    saved = await leader.post(url, data={"csrf_token": token, "channel": "voice", "time": "08:15", "days": "1,3"})
    assert saved.status_code == 303 and "done=checkin_saved" in saved.headers["location"]
    with console_services.db.session() as session:
        person = session.get(HouseholdPerson, person.id)
        assert (person.checkin_channel, person.checkin_time, person.checkin_days) == ("voice", "08:15", [1, 3])
        (entry,) = session.exec(select(AuditLog).where(AuditLog.action == "household.checkin")).all()
    assert entry.detail["to"] == {"channel": "voice", "time": "08:15", "days": [1, 3]}
    assert MA_YUZHEN not in json.dumps(entry.detail)
    elsewhere = await client_for("sup-fengyang")
    token = csrf_of((await elsewhere.get("/console/sweeps")).text)
    assert (await elsewhere.post(url, data={"csrf_token": token, "channel": "sms"})).status_code == 404
