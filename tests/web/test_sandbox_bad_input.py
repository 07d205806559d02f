"""Malformed input to the sandbox's API gets a 4xx with a JSON explanation, never a 500."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlmodel import select

from gridline.storage.models import InboundEvent
from tests.web.support import API, Sandbox

EVENT = str(uuid.uuid4())


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"session_id": "abcdefgh", "text": "停水了"}, id="no event id"),
        pytest.param({"event_id": "not-a-uuid", "session_id": "abcdefgh", "text": "停水了"}, id="event id not a uuid"),
        pytest.param({"event_id": EVENT, "text": "停水了"}, id="nobody chatting"),
        pytest.param({"event_id": EVENT, "session_id": "abcdefgh", "resident_id": 1, "text": "x"}, id="two people"),
        pytest.param({"event_id": EVENT, "session_id": "a b", "text": "停水了"}, id="bad session id"),
        pytest.param({"event_id": EVENT, "session_id": "abcdefgh"}, id="says nothing"),
        pytest.param({"event_id": EVENT, "session_id": "abcdefgh", "text": "   "}, id="blank text"),
        pytest.param({"event_id": EVENT, "session_id": "abcdefgh", "text": "x" * 2001}, id="text too long"),
        pytest.param({"event_id": EVENT, "session_id": "abcdefgh", "text": "停水了",
                      "location": {"lat": 34.78, "lon": 113.61}}, id="text and pin at once"),
        pytest.param({"event_id": EVENT, "session_id": "abcdefgh", "location": {"lat": 134.0, "lon": 113.6}},
                     id="latitude out of range"),
        pytest.param({"event_id": EVENT, "session_id": "abcdefgh", "location": {"lat": "north"}}, id="pin garbage"),
        pytest.param({"event_id": EVENT, "session_id": "abcdefgh", "command": "rm -rf"}, id="unknown command"),
        pytest.param({"event_id": EVENT, "session_id": "abcdefgh", "text": "x", "admin": True}, id="unknown field"),
        pytest.param(["not", "an", "object"], id="a list"),
    ],
)
async def test_malformed_resident_messages_are_refused_and_not_stored(sandbox: Sandbox, body: Any) -> None:
    response = await sandbox.http.post(f"{API}/messages", json=body)
    assert response.status_code == 422
    assert response.json()["detail"]
    with sandbox.services.db.session() as session:
        assert session.exec(select(InboundEvent)).all() == []


async def test_a_body_that_is_not_json_is_refused(sandbox: Sandbox) -> None:
    response = await sandbox.http.post(f"{API}/messages", content=b"{oops",
                                       headers={"content-type": "application/json"})
    assert response.status_code == 422


async def test_a_demo_resident_id_beyond_the_column_is_refused(sandbox: Sandbox) -> None:
    response = await sandbox.post_message({"resident_id": 2**63}, text="停水了")
    assert response.status_code == 422


async def test_nul_and_control_characters_are_stripped_before_storing(sandbox: Sandbox) -> None:
    resident = {"session_id": "abcdefgh"}
    assert (await sandbox.post_message(resident, text="\x00\x07")).status_code == 422  # nothing left to say
    chat = await sandbox.say(resident, text="桐柏路199号院\x00停水了")
    assert chat["messages"][0]["text"] == "桐柏路199号院停水了"


async def test_an_unknown_demo_resident_is_not_found(sandbox: Sandbox) -> None:
    response = await sandbox.post_message({"resident_id": 999_999}, text="停水了")
    assert response.status_code == 404
    assert response.json()["detail"]["error"] == "unknown_resident"


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/conversation", 422),
        ("/conversation?resident_id=1&session_id=abcdefgh", 422),
        ("/conversation?resident_id=abc", 422),
        ("/inbox/999999", 404),
        ("/inbox/abc", 422),
        ("/inbox/1?lang=klingon", 422),
        ("/cases/999999", 404),
        (f"/inbox/{2**63}", 422),
        (f"/cases/{2**63}", 422),
        ("/cases/" + "9" * 40, 422),
    ],
)
async def test_bad_reads_are_4xx(sandbox: Sandbox, path: str, status: int) -> None:
    response = await sandbox.http.get(API + path)
    assert response.status_code == status
    assert response.json()["detail"]


async def test_bad_staff_actions_are_4xx(sandbox: Sandbox) -> None:
    resident = {"resident_id": await sandbox.resident_id("李秀英")}
    leader_id = await sandbox.staff_id("LDR-ZY01-01-1")
    other_id = await sandbox.staff_id("LDR-GX01-01-1")
    await sandbox.say(resident, text="俺们楼从昨天就没水了咋弄")
    (page,) = await sandbox.inbox(leader_id)

    async def act(body: dict[str, Any]) -> int:
        return (await sandbox.http.post(f"{API}/actions", json=body)).status_code

    assert await act({"staff_id": leader_id, "page_id": page["page_id"], "action": "delete"}) == 422
    assert await act({"staff_id": leader_id, "page_id": page["page_id"], "action": "reassign"}) == 422
    assert await act({"staff_id": leader_id, "page_id": "one", "action": "acknowledge"}) == 422
    assert await act({"staff_id": leader_id, "page_id": 999_999, "action": "acknowledge"}) == 404
    assert await act({"staff_id": leader_id, "page_id": 2**63, "action": "acknowledge"}) == 422
    assert await act({"staff_id": 2**63, "page_id": page["page_id"], "action": "acknowledge"}) == 422
    assert await act({"staff_id": leader_id, "page_id": page["page_id"], "action": "reassign",
                      "to_staff_id": 2**64}) == 422
    # Someone else's page is not in your inbox.
    assert await act({"staff_id": other_id, "page_id": page["page_id"], "action": "acknowledge"}) == 404
    assert await act({"staff_id": leader_id, "page_id": page["page_id"], "action": "reassign",
                      "to_staff_id": 999_999}) == 404
    (page,) = await sandbox.inbox(leader_id)
    assert page["case"]["status"] == "paged"  # none of it touched the case


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param('"text": "\\ud800"', id="only a lone surrogate"),
        pytest.param('"text": "\\udfff\\u0000 "', id="surrogate and NUL"),
        pytest.param('"text": "x", "session_id": "\\ud800\\ud800\\ud800"', id="surrogates in the session id"),
    ],
)
async def test_a_lone_surrogate_in_a_refused_body_is_a_422_not_a_500(sandbox: Sandbox, fields: str) -> None:
    """The 422 echoes what was wrong; a lone surrogate in it could not be encoded and became a 500."""
    sender = "" if "session_id" in fields else '"session_id": "abcdefgh", '
    body = '{"event_id": "' + EVENT + '", ' + sender + fields + "}"
    response = await sandbox.http.post(f"{API}/messages", content=body.encode(),
                                       headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert response.json()["detail"]
    with sandbox.services.db.session() as session:
        assert session.exec(select(InboundEvent)).all() == []
