"""The status callbacks' lane (``bots.twilio.webhooks.TwilioLane``, ``POST /webhooks/twilio/status``)
answers as the FastAPI route did: 204 with no body once a signed status is applied; a forged or
missing signature 403 with nothing changed; malformed input a 4xx, never a 500; other methods and
paths go on to the app."""

from __future__ import annotations

import httpx
import pytest
from twilio.request_validator import RequestValidator

from tests.conftest import BACKENDS
from tests.twilio.conftest import AUTH_TOKEN, LI_XIUYING, TwilioWorld
from tests.twilio.fake_twilio import FakeMessage

PATH = "/webhooks/twilio/status"


async def a_sent_reply(world: TwilioWorld) -> FakeMessage:
    """A resident's report answered by text: Gridline's reply handed to (fake) Twilio, whose own
    status callbacks have not been posted yet."""
    await world.phone(LI_XIUYING).text("桐柏路199号院停水了")
    await world.services.jobs.run_due(world.services.handlers)
    (reply, *_) = [m for m in world.fake.messages if m.to == LI_XIUYING]
    assert reply.status_callback == world.base_url + PATH
    return reply


def status_form(world: TwilioWorld, sid: str, status: str) -> dict[str, str]:
    return {"AccountSid": world.fake.account_sid, "MessageSid": sid, "SmsSid": sid, "MessageStatus": status,
            "SmsStatus": status}


async def post(world: TwilioWorld, fields: dict[str, str], signature: str | None) -> httpx.Response:
    headers = {"X-Twilio-Signature": signature} if signature is not None else {}
    async with httpx.AsyncClient() as client:
        return await client.post(world.base_url + PATH, data=fields, headers=headers)


@pytest.mark.parametrize("world", BACKENDS, indirect=True)
async def test_a_signed_status_is_applied_and_answered_204(world: TwilioWorld) -> None:
    reply = await a_sent_reply(world)
    delivered = status_form(world, reply.sid, "delivered")
    response = await post(world, delivered, RequestValidator(AUTH_TOKEN).compute_signature(world.base_url + PATH,
                                                                                          delivered))
    assert response.status_code == 204
    assert response.content == b""
    assert "content-type" not in response.headers
    assert world.message_status(reply.sid) == "delivered"
    # A late, older status changes nothing (the provider's order decides), and is still a 204.
    sent = status_form(world, reply.sid, "sent")
    late = await post(world, sent, RequestValidator(AUTH_TOKEN).compute_signature(world.base_url + PATH, sent))
    assert late.status_code == 204
    assert world.message_status(reply.sid) == "delivered"
    await world.settle()


async def test_a_forged_or_missing_signature_is_403_and_changes_nothing(world: TwilioWorld) -> None:
    reply = await a_sent_reply(world)
    before = world.message_status(reply.sid)
    failed = status_form(world, reply.sid, "failed")
    forged = RequestValidator("not-the-token").compute_signature(world.base_url + PATH, failed)
    for signature, detail in ((forged, "bad signature"), (None, "missing signature")):
        response = await post(world, failed, signature)
        assert response.status_code == 403
        assert response.headers["content-type"] == "application/json"
        assert response.json() == {"detail": detail}
    assert world.message_status(reply.sid) == before
    # Signed for another path (the SMS webhook's): refused too.
    other = RequestValidator(AUTH_TOKEN).compute_signature(world.base_url + "/webhooks/twilio/sms", failed)
    assert (await post(world, failed, other)).status_code == 403
    assert world.message_status(reply.sid) == before
    await world.settle()


async def test_a_signed_form_that_is_not_a_status_is_a_plain_400(world: TwilioWorld) -> None:
    for fields in ({"MessageSid": "SM1"}, {"MessageSid": "SM1", "MessageStatus": "teleported"}, {"CallSid": "CA1"},
                   {}):
        response = await world.fake.post_signed(world.base_url + PATH, fields)
        assert response.status_code == 400
        assert response.text == "not a status callback"
        assert "content-type" not in response.headers


@pytest.mark.parametrize(
    ("headers", "content", "status"),
    [
        ({"X-Twilio-Signature": "x", "Content-Type": "application/json"}, b'{"MessageSid": "SM1"}', 415),
        ({"X-Twilio-Signature": "x", "Content-Type": "application/x-www-form-urlencoded"}, b"\xff\xfe%zz=%%&&==\x00",
         403),
        ({"X-Twilio-Signature": "x", "Content-Type": "application/x-www-form-urlencoded"},
         b"MessageStatus=" + b"x" * 100_000, 413),
    ],
)
async def test_malformed_bodies_are_client_errors(world: TwilioWorld, headers: dict[str, str], content: bytes,
                                                  status: int) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.post(world.base_url + PATH, content=content, headers=headers)
    assert response.status_code == status


async def test_other_methods_and_paths_go_on_to_the_app(world: TwilioWorld) -> None:
    async with httpx.AsyncClient() as client:
        get = await client.get(world.base_url + PATH)
        below = await client.post(world.base_url + PATH + "/more", data={"MessageSid": "SM1"})
    assert get.status_code in (404, 405)  # no GET route there (the lane answers POST only)
    assert below.status_code == 404
