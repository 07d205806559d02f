"""The SMS webhook's lane (``bots.twilio.webhooks.TwilioLane``) answers as the FastAPI route did: the
same statuses, bodies and content types; the text stored before the TwiML; a forged signature 403
with nothing stored; malformed input a 4xx, never a 500; other paths and methods go on to the app."""

from __future__ import annotations

import httpx
import pytest
from twilio.request_validator import RequestValidator

from tests.twilio.conftest import AUTH_TOKEN, LI_XIUYING, SMS_NUMBER, TwilioWorld

PATH = "/webhooks/twilio/sms"
TWIML = b'<?xml version="1.0" encoding="UTF-8"?><Response />'


def form(sid: str = "SM" + "7" * 32, body: str = "桐柏路199号院停水了") -> dict[str, str]:
    return {"AccountSid": "AC" + "0" * 32, "MessageSid": sid, "From": LI_XIUYING, "To": SMS_NUMBER, "Body": body}


def sign(world: TwilioWorld, fields: dict[str, str], path: str = PATH, token: str = AUTH_TOKEN) -> str:
    return RequestValidator(token).compute_signature(world.base_url + path, fields)


async def test_a_signed_text_is_stored_before_the_empty_twiml(world: TwilioWorld) -> None:
    fields = form()
    async with httpx.AsyncClient() as client:
        response = await client.post(world.base_url + PATH, data=fields,
                                     headers={"X-Twilio-Signature": sign(world, fields)})
    assert response.status_code == 200
    assert response.content == TWIML
    assert response.headers["content-type"] == "application/xml"
    # Stored when the answer came, not processed yet (no job has run).
    assert [(e.provider, e.event_key, e.status) for e in world.inbox()] == [("twilio:sms", fields["MessageSid"],
                                                                             "received")]
    assert world.inbox()[0].payload["Body"] == fields["Body"]


async def test_a_repeated_message_sid_is_stored_once_and_answered_alike(world: TwilioWorld) -> None:
    fields = form()
    async with httpx.AsyncClient() as client:
        answers = [await client.post(world.base_url + PATH, data=fields,
                                     headers={"X-Twilio-Signature": sign(world, fields)}) for _ in range(2)]
    assert [a.status_code for a in answers] == [200, 200]
    assert answers[0].content == answers[1].content == TWIML
    assert len(world.inbox()) == 1


@pytest.mark.parametrize(
    ("headers", "content", "status", "answer"),
    [
        ({}, None, 403, {"detail": "missing signature"}),
        ({"X-Twilio-Signature": "forged"}, None, 403, {"detail": "bad signature"}),
        ({"X-Twilio-Signature": "forged", "Content-Type": "application/json"}, b'{"MessageSid": "SM1"}', 415,
         {"detail": "expected a form"}),
        ({"X-Twilio-Signature": "forged", "Content-Type": "application/x-www-form-urlencoded"},
         b"\xff\xfe%zz=%%&&==\x00", 403, {"detail": "bad signature"}),
    ],
)
async def test_refusals_are_the_routes_json_and_store_nothing(
    world: TwilioWorld, headers: dict[str, str], content: bytes | None, status: int, answer: dict[str, str]
) -> None:
    async with httpx.AsyncClient() as client:
        if content is None:
            response = await client.post(world.base_url + PATH, data=form(), headers=headers)
        else:
            response = await client.post(world.base_url + PATH, content=content, headers=headers)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    assert response.json() == answer
    assert world.inbox() == []


async def test_a_signed_form_without_sid_or_sender_is_a_plain_400(world: TwilioWorld) -> None:
    fields = {"Body": "你好", "From": LI_XIUYING}
    async with httpx.AsyncClient() as client:
        response = await client.post(world.base_url + PATH, data=fields,
                                     headers={"X-Twilio-Signature": sign(world, fields)})
    assert response.status_code == 400
    assert response.text == "missing MessageSid or From"
    assert world.inbox() == []


async def test_too_large_is_refused_before_it_is_read(world: TwilioWorld) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.post(world.base_url + PATH, content=b"Body=" + b"x" * 100_000,
                                     headers={"X-Twilio-Signature": "x",
                                              "Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 413
    assert world.inbox() == []


async def test_a_signed_url_with_a_query_is_checked_with_it(world: TwilioWorld) -> None:
    fields = form()
    async with httpx.AsyncClient() as client:
        wrong = await client.post(world.base_url + PATH + "?x=1", data=fields,
                                  headers={"X-Twilio-Signature": sign(world, fields)})
        right = await client.post(world.base_url + PATH + "?x=1", data=fields,
                                  headers={"X-Twilio-Signature": sign(world, fields, PATH + "?x=1")})
        undecodable = await client.post(world.base_url + PATH + "?x=%FF", data=fields,
                                        headers={"X-Twilio-Signature": sign(world, fields)})
    assert (wrong.status_code, right.status_code, undecodable.status_code) == (403, 200, 403)
    assert len(world.inbox()) == 1


async def test_other_methods_and_paths_go_on_to_the_app(world: TwilioWorld) -> None:
    async with httpx.AsyncClient() as client:
        get = await client.get(world.base_url + PATH)
        below = await client.post(world.base_url + PATH + "/more", data=form())
    assert get.status_code in (404, 405)  # no GET route there (the lane answers POST only)
    assert below.status_code == 404
