"""Unit tests of the edge's readers: digits as the resident meant them, control characters out."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridline.edge.jsonbody import BadJson, json_depth, load_json
from gridline.edge.text import ascii_int, choice_number, clean_payload, clean_text


@pytest.mark.parametrize(("text", "number"), [("1", 1), ("１", 1), ("①", 1), ("③", 3), ("⑴", 1), ("⒈", 1), ("❷", 2)])
def test_digits_a_resident_types_for_a_choice_are_that_number(text: str, number: int) -> None:
    assert choice_number(text) == number


@pytest.mark.parametrize("text", ["²", "½", "Ⅳ", "a", "12", "", "一"])
def test_superscripts_fractions_and_words_are_not_a_choice(text: str) -> None:
    assert choice_number(text) is None


@pytest.mark.parametrize(("text", "number"), [("0", 0), ("42", 42), (" 7 ", 7)])
def test_ascii_numbers_are_read(text: str, number: int) -> None:
    assert ascii_int(text) == number


@pytest.mark.parametrize("text", ["²", "①", "１", "-1", "1e3", "", None, "9" * 19, str(2**63)])
def test_anything_but_ascii_digits_within_range_is_no_number(text: str | None) -> None:
    assert ascii_int(text) is None


def test_bounds_are_kept() -> None:
    assert ascii_int("11", highest=10) is None
    assert ascii_int("0", lowest=1) is None


def test_nul_and_control_characters_are_stripped_but_lines_and_tabs_stay() -> None:
    assert clean_text("停\x00水\x1b了\u0085\n第二行\t!\ud800") == "停水了\n第二行\t!"


def test_payloads_are_cleaned_all_the_way_down_keys_included() -> None:
    payload = {"message": {"text": "a\x00b", "from": {"first_name": "\x00建国"}, "k\x00": [1, "x\x07"]}}
    assert clean_payload(payload) == {"message": {"text": "ab", "from": {"first_name": "建国"}, "k": [1, "x"]}}


def test_json_depth_ignores_brackets_inside_strings() -> None:
    assert json_depth(b'{"a": [1, {"b": "[[[[\\"]]"}]}') == 3
    assert json_depth(b"42") == 0


def test_a_thousand_deep_body_is_refused_before_parsing() -> None:
    with pytest.raises(BadJson):
        load_json(b"[" * 1000 + b"]" * 1000)
    with pytest.raises(BadJson):
        load_json(b'{"a":' * 1000 + b"1" + b"}" * 1000)
    assert load_json(b'{"update_id": 1}') == {"update_id": 1}


# -- json_text_is_clean: the webhook's shortcut past clean_payload ------------------------------------

_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=400, derandomize=True)
@given(_JSON_VALUES, st.booleans())
def test_a_json_text_said_to_be_clean_parses_to_what_cleaning_would_leave(value, ascii_only) -> None:
    from gridline.edge.text import json_text_is_clean

    text = json.dumps(value, ensure_ascii=ascii_only)
    if json_text_is_clean(text):
        parsed = json.loads(text)
        assert clean_payload(parsed) == parsed


@pytest.mark.parametrize("text", ['{"t": "a\\u0000b"}', '{"t": "\\b"}', '{"t": "\\f"}', '{"t": "\\ud800"}',
                                  '{"t": "\\uFFFF"}', '{"t": "\x7f"}', '{"t": "\x85"}', '{"\\u0001": 1}'])
def test_a_json_text_that_may_hold_a_control_character_is_not_clean(text: str) -> None:
    from gridline.edge.text import json_text_is_clean

    assert not json_text_is_clean(text)


def test_a_telegram_update_with_escaped_chinese_and_newlines_is_clean() -> None:
    from gridline.edge.text import json_text_is_clean

    assert json_text_is_clean('{"update_id": 1, "text": "\\u697c\\u9053\\u706f \\"\\n\\t\\r\\\\ 楼道灯"}')
