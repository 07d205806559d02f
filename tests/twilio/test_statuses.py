"""Twilio statuses in order: a late callback can never move a page or a message backwards."""

from __future__ import annotations

from gridline.bots.twilio.phone import to_e164
from gridline.bots.twilio.statuses import MACHINE_VERDICT_SEQ, call_update, message_update


def test_message_statuses_are_ranked_in_the_order_they_happen() -> None:
    ranks = [message_update({"MessageSid": "SM1", "MessageStatus": s}).seq for s in  # type: ignore[union-attr]
             ("queued", "sending", "sent", "delivered")]
    assert ranks == sorted(ranks) and len(set(ranks)) == 4


def test_a_late_sent_ranks_below_delivered() -> None:
    delivered = message_update({"MessageSid": "SM1", "MessageStatus": "delivered"})
    sent = message_update({"MessageSid": "SM1", "MessageStatus": "sent"})
    assert delivered is not None and sent is not None
    assert sent.seq < delivered.seq


def test_undelivered_message_carries_the_error_code() -> None:
    update = message_update({"MessageSid": "SM1", "MessageStatus": "undelivered", "ErrorCode": "30003"})
    assert update is not None and update.status == "undelivered" and "30003" in (update.error or "")


def test_not_a_status_callback() -> None:
    assert message_update({"MessageSid": "SM1"}) is None
    assert message_update({"MessageStatus": "sent"}) is None
    assert call_update({"CallSid": "CA1", "CallStatus": "exploded"}) is None


def test_call_uses_twilios_sequence_number() -> None:
    update = call_update({"CallSid": "CA1", "CallStatus": "ringing", "SequenceNumber": "7"})
    assert update is not None and update.seq == 7 and update.status == "sent"


def test_a_person_answering_delivers_the_page() -> None:
    for status in ("in-progress", "completed"):
        update = call_update({"CallSid": "CA1", "CallStatus": status, "SequenceNumber": "2", "AnsweredBy": "human"})
        assert update is not None and update.status == "delivered"


def test_no_answer_busy_and_failure_fail_the_page() -> None:
    for status in ("no-answer", "busy", "failed", "canceled"):
        update = call_update({"CallSid": "CA1", "CallStatus": status, "SequenceNumber": "2"})
        assert update is not None and update.status == "failed" and status in (update.error or "")


def test_an_answering_machine_is_not_the_leader() -> None:
    for who in ("machine_start", "machine_end_beep", "fax"):
        update = call_update({"CallSid": "CA1", "CallStatus": "completed", "SequenceNumber": "3", "AnsweredBy": who})
        assert update is not None and update.status == "failed" and update.seq == MACHINE_VERDICT_SEQ


def test_phone_numbers_are_normalised_to_e164() -> None:
    assert to_e164("138 0000 0001") == "+8613800000001"
    assert to_e164("+86 170-0001-0001") == "+8617000010001"
    assert to_e164("008613800000001") == "+8613800000001"
    assert to_e164("+1 415 555 2671") == "+14155552671"
    assert to_e164("anonymous") is None
    assert to_e164("") is None and to_e164(None) is None
