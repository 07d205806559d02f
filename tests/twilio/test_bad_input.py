"""SMS and status callbacks that used to be answered 200 and then crash (issue 10), end to end."""

from __future__ import annotations

import pytest

from tests.twilio.conftest import LI_XIUYING, ZHAO_DEMING, TwilioWorld


@pytest.mark.parametrize("body", ["①", "²"])
async def test_a_lone_unicode_digit_by_sms_is_processed_and_answered(world: TwilioWorld, body: str) -> None:
    resident = world.phone(ZHAO_DEMING)
    answer = await resident.text(body)
    assert answer.status_code == 200
    await world.settle()
    assert [event.status for event in world.inbox()] == ["processed"]
    assert resident.unread(), "the resident got no answer"


async def test_num_media_written_as_a_superscript_keeps_the_whole_report(world: TwilioWorld) -> None:
    resident = world.phone(LI_XIUYING)
    answer = await resident.text("桐柏路199号院停水了", NumMedia="²", MediaUrl0="https://example.org/p.jpg")
    assert answer.status_code == 200
    await world.settle()
    assert [event.status for event in world.inbox()] == ["processed"]
    assert len(world.cases()) == 1
    resident.expect_sms("已受理")


@pytest.mark.parametrize("sequence", ["²", "-1", "1" * 30, "①"])
async def test_a_call_status_with_an_odd_sequence_number_is_no_500(world: TwilioWorld, sequence: str) -> None:
    params = {"CallSid": "CA" + "e" * 32, "CallStatus": "ringing", "SequenceNumber": sequence,
              "AccountSid": world.fake.account_sid}
    response = await world.fake.post_signed(world.base_url + "/webhooks/twilio/status", params)
    assert response.status_code < 500


@pytest.mark.postgres
@pytest.mark.parametrize("world", ["postgres"], indirect=True)
async def test_nul_in_an_sms_is_stripped_on_postgresql(world: TwilioWorld) -> None:
    resident = world.phone(LI_XIUYING)
    answer = await resident.text("桐柏路199号院\x00停水了")
    assert answer.status_code == 200
    await world.settle()
    assert [event.status for event in world.inbox()] == ["processed"]
    (case,) = world.cases()
    assert "\x00" not in case.summary and "停水了" in case.summary
    resident.expect_sms("已受理")
