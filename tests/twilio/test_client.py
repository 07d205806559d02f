"""The real twilio-python client against the fake Twilio: base URL rewriting, auth, error mapping."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from gridline.bots.twilio.client import BaseUrlHttpClient, TwilioGateway
from gridline.bots.twilio.notifiers import _delivery
from gridline.settings import TwilioSettings
from tests.twilio.conftest import ACCOUNT_SID, AUTH_TOKEN, SMS_NUMBER, VOICE_NUMBER
from tests.twilio.fake_twilio import FakeTwilio


def test_requests_go_to_the_configured_base_url() -> None:
    client = BaseUrlHttpClient("http://127.0.0.1:9999/twilio")
    rewritten = client.rewrite(f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json?x=1")
    assert rewritten == f"http://127.0.0.1:9999/twilio/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json?x=1"


def test_a_base_url_that_is_not_http_is_refused() -> None:
    with pytest.raises(ValueError, match="api_base_url"):
        BaseUrlHttpClient("api.twilio.com")


@pytest.fixture
async def fake() -> AsyncIterator[FakeTwilio]:
    fake = await FakeTwilio(
        account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, sms_number=SMS_NUMBER, voice_number=VOICE_NUMBER
    ).start()
    yield fake
    await fake.close()


def gateway(fake: FakeTwilio, token: str = AUTH_TOKEN) -> TwilioGateway:
    return TwilioGateway(
        TwilioSettings(account_sid=ACCOUNT_SID, auth_token=token, sms_number=SMS_NUMBER,
                       voice_number=VOICE_NUMBER, api_base_url=fake.base_url)
    )


async def test_an_sms_reaches_the_fake_with_its_status_callback(fake: FakeTwilio) -> None:
    result = await gateway(fake).send_sms("+8613800000001", "你好", status_callback="http://127.0.0.1:1/status")
    assert result.ok and result.sid and result.sid.startswith("SM")
    (message,) = fake.messages
    assert (message.to, message.from_, message.body) == ("+8613800000001", SMS_NUMBER, "你好")
    assert message.status_callback == "http://127.0.0.1:1/status"


async def test_a_call_asks_for_machine_detection_and_progress_callbacks(fake: FakeTwilio) -> None:
    result = await gateway(fake).create_call(
        "+8613800000001", url="http://127.0.0.1:1/voice/page/1", status_callback="http://127.0.0.1:1/status"
    )
    assert result.ok and result.sid and result.sid.startswith("CA")
    (_, fields), = [entry for entry in fake.rest_log if entry[0] == "Calls.json"]
    assert fields["MachineDetection"] == "Enable"
    assert fields["From"] == VOICE_NUMBER
    assert set(fake.calls[0].callback_events) == {"initiated", "ringing", "answered", "completed"}


async def test_wrong_credentials_fail_without_marking_the_number_unreachable(fake: FakeTwilio) -> None:
    result = await gateway(fake, token="wrong").send_sms("+8613800000001", "你好")
    delivery = _delivery(result)
    assert not result.ok and "401" in (result.error or "")
    assert delivery.state == "failed" and not delivery.unreachable
    assert fake.messages == []


async def test_rate_limits_and_server_errors_are_retried(fake: FakeTwilio) -> None:
    fake.rest_failures = [(429, 20429), (503, None)]
    for _ in range(2):
        delivery = _delivery(await gateway(fake).send_sms("+8613800000001", "你好"))
        assert delivery.state == "retry" and delivery.retry_after


async def test_an_invalid_number_is_unreachable_for_good(fake: FakeTwilio) -> None:
    fake.rest_failures = [(400, 21211)]
    delivery = _delivery(await gateway(fake).send_sms("+8613800000001", "你好"))
    assert delivery.state == "failed" and delivery.unreachable


async def test_twilio_down_is_retried(fake: FakeTwilio) -> None:
    await fake.close()
    delivery = _delivery(await gateway(fake).send_sms("+8613800000001", "你好"))
    assert delivery.state == "retry"
