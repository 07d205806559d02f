"""Limits before work (issue 10): oversized bodies are refused without being read whole, deep JSON
before it is parsed, and a forged Twilio signature before the form is parsed."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlmodel import select

from gridline.app import create_app
from gridline.storage.models import InboundEvent

SECRET = "webhook-s3cret-for-tests"
WEBHOOKS = [
    "/webhooks/telegram/city",
    "/webhooks/twilio/sms",
    "/webhooks/twilio/voice",
    "/webhooks/twilio/status",
]


@pytest.fixture
async def http(make_services) -> AsyncIterator[httpx.AsyncClient]:
    services = await make_services(
        telegram={"bots": {"city": {"token": "100001:TEST-city-bot", "secret_token": SECRET}}},
        twilio={"account_sid": "AC" + "0" * 32, "auth_token": "tok", "sms_number": "+8610690000001"},
    )
    app = create_app(services, run_jobs=False, sandbox=True)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1:8000") as client:
        client.services = services  # type: ignore[attr-defined]
        yield client


class CountingBody:
    """A request body streamed in 16 KiB chunks without a Content-Length, counting what was taken."""

    def __init__(self, total: int, chunk: bytes = b"a") -> None:
        self.total, self.taken, self.piece = total, 0, chunk * 16384

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while self.taken < self.total:
            self.taken += len(self.piece)
            yield self.piece


def stored(client: httpx.AsyncClient) -> list[InboundEvent]:
    with client.services.db.session() as session:  # type: ignore[attr-defined]
        return list(session.exec(select(InboundEvent)))


@pytest.mark.parametrize("path", WEBHOOKS)
async def test_an_oversized_body_to_each_webhook_is_413_without_being_read_whole(http, path: str) -> None:
    body = CountingBody(50 * 1024 * 1024)
    headers = {"content-type": "application/x-www-form-urlencoded", "X-Twilio-Signature": "x",
               "X-Telegram-Bot-Api-Secret-Token": SECRET}
    response = await http.post(path, content=body, headers=headers)
    assert response.status_code == 413
    assert body.taken <= 2 * 1024 * 1024, f"read {body.taken} bytes of a 50 MiB body"
    assert stored(http) == []


@pytest.mark.parametrize("path", WEBHOOKS)
async def test_an_announced_oversized_body_is_413_before_a_byte_is_read(http, path: str) -> None:
    body = CountingBody(8 * 1024 * 1024)
    headers = {"content-length": str(8 * 1024 * 1024), "X-Telegram-Bot-Api-Secret-Token": SECRET,
               "X-Twilio-Signature": "x"}
    response = await http.post(path, content=body, headers=headers)
    assert response.status_code == 413
    assert body.taken <= 16384


FORM = "application/x-www-form-urlencoded"


async def test_a_forged_twilio_signature_is_refused_before_the_form_is_parsed(http) -> None:
    # Forms the form checks would refuse (500 fields; bytes that are not UTF-8): with a forged signature
    # the answer is 403, not 400, so the signature was checked before anything else was read.
    many = "&".join(f"k{i}=v" for i in range(500)).encode()
    for body in (many, b"Body=\xff\xfe&From=%ff"):
        response = await http.post("/webhooks/twilio/sms", content=body,
                                   headers={"X-Twilio-Signature": "forged", "content-type": FORM})
        assert response.status_code == 403
    response = await http.post("/webhooks/twilio/sms", data={"From": "+8617000010001", "Body": "停水了",
                                                              "MessageSid": "SM1"}, headers={"X-Twilio-Signature": "x"})
    assert response.status_code == 403
    assert stored(http) == []


async def test_a_signed_form_with_too_many_fields_is_refused(http) -> None:
    from twilio.request_validator import RequestValidator

    fields = {f"k{i}": "v" for i in range(500)}
    url = "http://127.0.0.1:8000/webhooks/twilio/sms"
    signature = RequestValidator("tok").compute_signature(url, fields)
    response = await http.post("/webhooks/twilio/sms", data=fields, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 400
    assert stored(http) == []


@pytest.mark.parametrize("path", ["/sandbox/api/messages", "/webhooks/telegram/city", "/sandbox/api/actions"])
async def test_deep_json_is_refused_before_it_is_parsed(http, path: str) -> None:
    body = b'{"a": ' + b"[" * 1000 + b"]" * 1000 + b"}"
    response = await http.post(path, content=body, headers={"content-type": "application/json",
                                                            "X-Telegram-Bot-Api-Secret-Token": SECRET})
    assert response.status_code == 400
    assert stored(http) == []


async def test_a_body_within_the_cap_reaches_the_route(http) -> None:
    response = await http.post("/webhooks/telegram/city", json={"update_id": 7, "message": {"text": "x"}},
                               headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})
    assert response.status_code == 200
    assert [e.event_key for e in stored(http)] == ["7"]
