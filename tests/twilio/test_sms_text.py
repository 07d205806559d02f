"""SMS bodies: segment arithmetic, numbered choices, and the Twilio texts' length."""

from __future__ import annotations

import pytest

from gridline.bots.twilio.sms_text import UNBOUNDED, render_message, render_page, segments, ucs2_units
from gridline.i18n import catalogue, t
from gridline.i18n.phrases import Phrase
from gridline.kernel.messages import Option


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("网" * 70, 1),
        ("网" * 71, 2),
        ("网" * 134, 2),
        ("网" * 135, 3),
        ("a" * 69 + "网", 1),  # one Chinese character makes the whole text UCS-2
        ("😀" * 35, 1),  # outside the BMP: two UTF-16 units each
        ("😀" * 36, 2),
    ],
)
def test_segments(text: str, expected: int) -> None:
    assert segments(text) == expected


def test_options_become_numbered_choices_in_order() -> None:
    body = render_message(
        "请问是哪类问题？",
        (Option(Phrase("category.water_supply"), "cat:ABC123:water_supply"),
         Option(Phrase("category.other"), "cat:ABC123:other")),
        "zh-CN",
    )
    assert body == "请问是哪类问题？\n回复1 供水\n回复2 其他"


def test_english_choices() -> None:
    water = Option(Phrase("category.water_supply"), "x")
    assert render_message("Which?", (water,), "en") == "Which?\nReply 1: Water supply"


def test_whitespace_is_squeezed_not_the_content() -> None:
    assert render_message("  工单   ABC123 \n\n 已受理 ", (), "zh-CN") == "工单 ABC123\n已受理"


def test_page_uses_the_short_text_with_its_code() -> None:
    short = "【网格热线】#12 停水 桐柏路199号院 回复12接单"
    assert render_page(short, "a much longer text") == short
    assert segments(short) == 1


# Texts that carry what a person wrote (the resident's words passed to the holder) are as long as
# those words: sms_text.UNBOUNDED says which; every other SMS text fits one segment.
@pytest.mark.parametrize("key", sorted(k for k in catalogue() if k.startswith(("twilio.sms.", "twilio.staff."))
                                       and k not in UNBOUNDED))
def test_twilio_sms_texts_fit_one_segment(key: str) -> None:
    text = t(key, "zh-CN", n=9, label="供水问题", code=123, ref="ABC123", number="0371 1234 5678")
    assert ucs2_units(text) <= 70, f"{key} takes {ucs2_units(text)} characters"
