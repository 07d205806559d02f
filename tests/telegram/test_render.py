"""What Telegram messages look like: split long texts, localised page buttons."""

from __future__ import annotations

from gridline.bots.telegram.callbacks import CallbackSigner
from gridline.bots.telegram.render import option_keyboard, page_keyboard, split_text
from gridline.i18n.phrases import Phrase, as_written
from gridline.kernel.messages import Option

signer = CallbackSigner(b"k" * 32)


def utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def test_short_texts_stay_whole():
    assert split_text("停水了") == ["停水了"]


def test_texts_over_4096_are_split_at_line_breaks_and_lose_nothing():
    lines = [f"第{i}行：桐柏路199号院3号楼停水，居民反映已经两天。" for i in range(400)]
    text = "\n".join(lines)
    parts = split_text(text)
    assert len(parts) > 1
    assert all(utf16_units(p) <= 4096 for p in parts)
    assert "\n".join(parts) == text
    assert all(p.endswith("。") for p in parts)  # cut between lines, not inside one


def test_emoji_count_twice_toward_the_limit():
    text = "🚰" * 3000  # 6000 UTF-16 units
    parts = split_text(text)
    assert [utf16_units(p) for p in parts] == [4096, 6000 - 4096]
    assert "".join(parts) == text


def test_a_text_without_line_breaks_is_cut_hard():
    parts = split_text("水" * 9000)
    assert [len(p) for p in parts] == [4096, 4096, 808]


def test_page_buttons_read_in_the_staff_members_language():
    zh = page_keyboard(signer, 7, 41, "zh-CN")
    en = page_keyboard(signer, 7, 41, "en")
    assert [[b.label for b in row] for row in zh] == [["接单", "已解决"], ["上报", "转交"]]
    assert [[b.label for b in row] for row in en] == [["Acknowledge", "Resolved"], ["Escalate", "Reassign"]]


def test_rating_options_share_a_row_and_category_options_get_one_each():
    ratings = option_keyboard(signer, 7, [Option(as_written(str(n)), f"rate:R1:{n}")
                                          for n in range(1, 6)], "zh-CN")
    assert len(ratings) == 1 and len(ratings[0]) == 5
    categories = option_keyboard(signer, 7, [Option(Phrase("category.gas_heating"), "cat:gas_heating"),
                                             Option(Phrase("category.other"), "cat:other")], "zh-CN")
    assert [len(row) for row in categories] == [1, 1]


def test_option_buttons_are_labelled_in_the_chats_language():
    options = [Option(Phrase("category.water_supply"), "cat:R1:water_supply")]
    assert option_keyboard(signer, 7, options, "zh-CN")[0][0].label == "供水"
    assert option_keyboard(signer, 7, options, "en")[0][0].label == "Water supply"
