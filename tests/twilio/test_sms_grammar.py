"""The leaders' SMS reply grammar, as a table: what they type → what Gridline understands."""

from __future__ import annotations

from typing import Final

import pytest

from gridline.bots.twilio.sms_grammar import StaffReply, parse_staff_reply

ACK: Final = "acknowledge"
RES: Final = "resolve"
ESC: Final = "escalate"

UNDERSTOOD = [
    # acknowledge
    ("12", StaffReply(ACK, 12, bare_number=True)),
    ("12a", StaffReply(ACK, 12)),
    ("12A", StaffReply(ACK, 12)),
    ("12 a", StaffReply(ACK, 12)),
    ("确认12", StaffReply(ACK, 12)),
    ("确认 12", StaffReply(ACK, 12)),
    ("ack 12", StaffReply(ACK, 12)),
    ("ACK12", StaffReply(ACK, 12)),
    ("接单12", StaffReply(ACK, 12)),
    ("12确认", StaffReply(ACK, 12)),
    ("１２", StaffReply(ACK, 12, bare_number=True)),  # full-width digits from a Chinese keyboard
    ("１２ａ", StaffReply(ACK, 12)),
    ("12。", StaffReply(ACK, 12, bare_number=True)),
    (" 12! ", StaffReply(ACK, 12, bare_number=True)),
    # resolve
    ("12r", StaffReply(RES, 12)),
    ("12c", StaffReply(RES, 12)),
    ("完成12", StaffReply(RES, 12)),
    ("办结 12", StaffReply(RES, 12)),
    ("resolve 12", StaffReply(RES, 12)),
    # escalate now
    ("12e", StaffReply(ESC, 12)),
    ("上报12", StaffReply(ESC, 12)),
    ("升级12", StaffReply(ESC, 12)),
    ("escalate 12", StaffReply(ESC, 12)),
    # no code: the latest page to this phone
    ("a", StaffReply(ACK, None)),
    ("ack", StaffReply(ACK, None)),
    ("确认", StaffReply(ACK, None)),
    ("收到", StaffReply(ACK, None)),
    ("收到了", StaffReply(ACK, None)),  # what a leader on the move types; it was "未能识别"
    ("好的。", StaffReply(ACK, None)),
    ("已接单12", StaffReply(ACK, 12)),
    ("已办结12", StaffReply(RES, 12)),
    ("解决了", StaffReply(RES, None)),
    ("完成", StaffReply(RES, None)),
    ("上报", StaffReply(ESC, None)),
    ("1", StaffReply(ACK, 1, bare_number=True)),
    # words after a code go to the resident, as written
    ("12 马上到，请稍等", StaffReply("relay", 12, text="马上到，请稍等")),
    ("３ Coming in 10 min", StaffReply("relay", 3, text="Coming in 10 min")),
    # help
    ("帮助", StaffReply("help", None)),
    ("help", StaffReply("help", None)),
    ("？", StaffReply("help", None)),
    ("帮助？", StaffReply("help", None)),
    # one's shifts: a question mark or a stray space after the word is still the word
    ("值班", StaffReply("duty", None)),
    ("值班？", StaffReply("duty", None)),
    ("值班?", StaffReply("duty", None)),
    ("值班 ？ ", StaffReply("duty", None)),
    ("我的值班？？", StaffReply("duty", None)),
    ("duty?", StaffReply("duty", None)),
    ("Duty ?\n", StaffReply("duty", None)),
    ("shifts?", StaffReply("duty", None)),
]

NOT_UNDERSTOOD = ["", "   ", "hello", "12x", "a b", "12345", "好的我马上到", "help 3", "12 13", "-12", "1.5",
                  # a question mark makes only a command that names no page: 「12？」 is no acknowledgement
                  "12?", "确认12？", "值班12？"]


@pytest.mark.parametrize(("text", "expected"), UNDERSTOOD, ids=[t for t, _ in UNDERSTOOD])
def test_reply_is_understood(text: str, expected: StaffReply) -> None:
    assert parse_staff_reply(text) == expected


@pytest.mark.parametrize("text", NOT_UNDERSTOOD)
def test_anything_else_is_not_a_staff_command(text: str) -> None:
    assert parse_staff_reply(text) is None


def test_none_is_not_understood() -> None:
    assert parse_staff_reply(None) is None
