"""Only Twilio gets in: every webhook's X-Twilio-Signature is checked before anything happens."""

from __future__ import annotations

import httpx
import pytest
from twilio.request_validator import RequestValidator

from tests.twilio.conftest import AUTH_TOKEN, LI_XIUYING, OLD_AUTH_TOKEN, SMS_NUMBER, TwilioWorld

WEBHOOKS = ["/webhooks/twilio/sms", "/webhooks/twilio/voice", "/webhooks/twilio/status",
            "/webhooks/twilio/voice/turn?n=1&s=ab", "/webhooks/twilio/voice/page/1"]


def sms_form(sid: str = "SM" + "1" * 32, body: str = "桐柏路199号院停水了") -> dict[str, str]:
    return {"AccountSid": "AC" + "0" * 32, "MessageSid": sid, "From": LI_XIUYING, "To": SMS_NUMBER, "Body": body}


async def post(world: TwilioWorld, path: str, form: dict[str, str], signature: str | None) -> httpx.Response:
    headers = {"X-Twilio-Signature": signature} if signature is not None else {}
    async with httpx.AsyncClient() as client:
        return await client.post(world.base_url + path, data=form, headers=headers)


@pytest.mark.parametrize("path", WEBHOOKS)
async def test_forged_signature_is_refused_and_nothing_is_stored(world: TwilioWorld, path: str) -> None:
    form = sms_form()
    forged = RequestValidator("not-the-token").compute_signature(world.base_url + path, form)
    response = await post(world, path, form, forged)
    assert response.status_code == 403
    await world.settle()
    assert world.inbox() == []
    assert world.cases() == []
    assert world.fake.messages == []


async def test_missing_signature_is_refused(world: TwilioWorld) -> None:
    response = await post(world, "/webhooks/twilio/sms", sms_form(), None)
    assert response.status_code == 403
    assert world.inbox() == []


async def test_signature_for_another_form_is_refused(world: TwilioWorld) -> None:
    """A captured signature replayed with a changed body (the attacker's own text) is refused."""
    url = world.base_url + "/webhooks/twilio/sms"
    signature = RequestValidator(AUTH_TOKEN).compute_signature(url, sms_form(body="你好"))
    response = await post(world, "/webhooks/twilio/sms", sms_form(body="煤气泄漏快来人"), signature)
    assert response.status_code == 403
    assert world.inbox() == []


async def test_signature_for_another_url_is_refused(world: TwilioWorld) -> None:
    form = sms_form()
    signature = RequestValidator(AUTH_TOKEN).compute_signature("https://elsewhere.example/webhooks/twilio/sms", form)
    assert (await post(world, "/webhooks/twilio/sms", form, signature)).status_code == 403


async def test_the_previous_auth_token_still_works_during_rotation(world: TwilioWorld) -> None:
    world.fake.signing_token = OLD_AUTH_TOKEN
    answer = await world.phone(LI_XIUYING).text("桐柏路199号院停水了")
    assert answer.status_code == 200
    await world.settle()
    assert len(world.cases()) == 1


async def test_a_signed_request_that_is_not_a_twilio_form_is_a_client_error(world: TwilioWorld) -> None:
    url = world.base_url + "/webhooks/twilio/sms"
    signature = RequestValidator(AUTH_TOKEN).compute_signature(url, {})
    async with httpx.AsyncClient() as client:
        as_json = await client.post(url, json={"MessageSid": "SM1"}, headers={"X-Twilio-Signature": signature})
        empty = await client.post(url, data={}, headers={"X-Twilio-Signature": signature})
        huge = await client.post(url, data={"Body": "x" * 100_000}, headers={"X-Twilio-Signature": signature})
    assert as_json.status_code == 415
    assert empty.status_code == 400  # signed, but no MessageSid / From
    assert huge.status_code == 413
    assert world.inbox() == []


async def test_signed_status_callback_without_a_status_is_a_client_error(world: TwilioWorld) -> None:
    response = await world.fake.post_signed(world.base_url + "/webhooks/twilio/status", {"MessageSid": "SM1"})
    assert response.status_code == 400


async def test_status_callback_for_an_unknown_message_is_accepted_and_ignored(world: TwilioWorld) -> None:
    response = await world.fake.post_signed(
        world.base_url + "/webhooks/twilio/status", {"MessageSid": "SM404", "MessageStatus": "delivered"}
    )
    assert response.status_code == 204


@pytest.mark.parametrize("path", ["/webhooks/twilio/voice/turn?n=abc&s=ab", "/webhooks/twilio/voice/page/abc",
                                  "/webhooks/twilio/voice/follow-up/0/key?step=solved&n=x",
                                  "/webhooks/twilio/voice/wait?key=k&n=abc"])
async def test_the_signature_is_checked_before_the_url_parameters(world: TwilioWorld, path: str) -> None:
    """An unsigned request is 403 whatever its URL says: the parameters' 422 (with FastAPI's account
    of what was expected) is only for requests Twilio signed."""
    form = {"CallSid": "CA" + "1" * 32, "From": LI_XIUYING}
    forged = RequestValidator("not-the-token").compute_signature(world.base_url + path, form)
    assert (await post(world, path, form, None)).status_code == 403
    assert (await post(world, path, form, forged)).status_code == 403
    assert world.inbox() == []


@pytest.mark.parametrize("path", ["/webhooks/twilio/voice/page/99999999999999999999",
                                  "/webhooks/twilio/voice/page/99999999999999999999/key?n=1&s=ab",
                                  "/webhooks/twilio/voice/follow-up/99999999999999999999",
                                  "/webhooks/twilio/voice/follow-up/99999999999999999999/status"])
async def test_a_signed_voice_url_with_an_id_that_cannot_exist_is_a_422(world: TwilioWorld, path: str) -> None:
    """Ids in paths fit the column or are 422 (docs/operations.md) — not a database error said as
    "sorry" to a caller."""
    form = {"CallSid": "CA" + "2" * 32, "From": LI_XIUYING, "CallStatus": "in-progress", "Digits": "1"}
    response = await world.fake.post_signed(world.base_url + path, form)
    assert response.status_code == 422
    assert world.inbox() == []


async def test_the_form_content_type_is_recognised_in_any_case(world: TwilioWorld) -> None:
    """Media types are case-insensitive (RFC 9110): a proxy writing ``Application/X-WWW-Form-Urlencoded``
    must not turn a resident's text into a 415 that Twilio does not retry."""
    url = world.base_url + "/webhooks/twilio/sms"
    form = sms_form()
    signature = RequestValidator(AUTH_TOKEN).compute_signature(url, form)
    async with httpx.AsyncClient() as client:
        response = await client.post(url, content=httpx.QueryParams(form).__str__().encode(), headers={
            "X-Twilio-Signature": signature, "Content-Type": "Application/X-WWW-Form-Urlencoded; Charset=UTF-8"})
    assert response.status_code == 200
    assert len(world.inbox()) == 1


@pytest.mark.parametrize(("path", "field"), [("/webhooks/twilio/sms", "MessageSid"), ("/webhooks/twilio/sms", "SmsSid"),
                                             ("/webhooks/twilio/voice", "CallSid"),
                                             ("/webhooks/twilio/voice/turn?n=1&s=ab", "CallSid")])
async def test_a_sid_longer_than_twilios_is_a_400_not_a_failure_later(
    world: TwilioWorld, path: str, field: str
) -> None:
    """Twilio's sids are 34 characters. A much longer one was stored cut to the inbox key's 128 and then
    failed the message's processing (its column) — or made every step of a call the same step."""
    form = {**sms_form(), "CallSid": "CA" + "1" * 32, field: "SM" + "7" * 300}
    response = await world.fake.post_signed(world.base_url + path, form)
    assert response.status_code == 400
    await world.settle()
    assert world.inbox() == []
