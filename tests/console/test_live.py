"""New cases reach open console pages as server-sent events — only the viewer's own.

The app runs under uvicorn on a loopback port so that the event stream is a real, open HTTP response.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.console.browser import LiveServer
from tests.console.conftest import login
from tests.console.factories import CaseFactory


@pytest.fixture
async def server(app) -> AsyncIterator[LiveServer]:
    live = LiveServer(app)
    await live.start()
    yield live
    await live.stop()


def case_event(case: Any, kind: str = "case.created") -> dict[str, Any]:
    return {"type": kind, "case_id": case.id, "ref": case.ref, "grid_code": case.grid_code, "status": case.status,
            "category": case.category, "priority": case.priority}


async def collect_events(server: LiveServer, account: str, publish: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Open the stream as ``account``, publish ``publish`` (then a marker only admins see), and return
    the case events received before the stream is closed."""
    received: list[dict[str, Any]] = []
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
        assert (await login(client, account)).status_code == 303
        async with client.stream("GET", "/console/events", headers={"accept": "text/event-stream"}) as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            lines = stream.aiter_lines()
            while (await anext(lines)) != ": connected":
                pass
            services = server.app.state.console.services
            for event in publish:
                server.call(services.events.publish("cases", event))
            # A last event the account may see closes the collection (it is in every account's scope).
            server.call(services.events.publish("cases", publish[-1] | {"type": "case.updated", "marker": True}))

            async def read() -> None:
                event_name = None
                async for line in lines:
                    if line.startswith("event: "):
                        event_name = line[len("event: "):]
                    elif line.startswith("data: "):
                        data = json.loads(line[len("data: "):])
                        received.append(data | {"event": event_name})
                        if event_name == "case.updated":
                            return

            await asyncio.wait_for(read(), timeout=10)
    return received


async def test_a_supervisor_receives_only_their_grids_events(server, factory: CaseFactory):
    theirs = factory.case(grid="GX01-01-2")
    other_grid = factory.case(grid="GX02-01-1")
    triage = factory.case(grid=None)
    events = await collect_events(server, "sup-lianhua",
                                  [case_event(other_grid), case_event(triage), case_event(theirs)])
    assert [(e["event"], e["ref"]) for e in events] == [("case.created", theirs.ref), ("case.updated", theirs.ref)]
    assert "marker" not in events[-1]  # only the listed fields leave the server


async def test_a_leader_receives_only_events_of_their_own_cases(server, factory: CaseFactory):
    own = factory.case(grid="GX01-01-1", staff="LDR-GX01-01-1")
    same_grid_not_theirs = factory.case(grid="GX01-01-1", staff="MBR-GX01-01-1")
    events = await collect_events(server, "leader-cheng", [case_event(same_grid_not_theirs), case_event(own)])
    assert [e["ref"] for e in events] == [own.ref, own.ref]


async def test_an_admin_receives_every_event(server, factory: CaseFactory):
    a = factory.case(grid="GX02-01-1")
    b = factory.case(grid=None)
    events = await collect_events(server, "admin", [case_event(a), case_event(b)])
    assert [e["ref"] for e in events] == [a.ref, b.ref, b.ref]


async def test_the_stream_needs_a_session(server):
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
        response = await client.get("/console/events", headers={"accept": "text/event-stream"})
    assert response.status_code == 401
