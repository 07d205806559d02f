"""zh-CN text brackets Chinese with full-width parentheses: 「莲花社区第二网格（备班）」, not 「(备班)」.

ASCII parentheses stay where they wrap a code or Latin text (``(21610)``, ``(W4RGMD)``, ``(SMS)``): the
test fails on a zh-CN message whose ASCII pair wraps a CJK character or a placeholder that is filled
with words (anything but the code-like facts below), and on a pair that mixes the two widths.
"""

from __future__ import annotations

import re

from gridline.i18n import catalogue

CJK = re.compile("[\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
ASCII_PAIR = re.compile(r"\(([^()（）]*)\)")
MIXED_PAIR = re.compile(r"（[^()（）]*\)|\([^()（）]*）")
PLACEHOLDER = re.compile(r"\{(\w+)[^}]*\}")
# Facts that are codes, numbers or Latin whatever the language: ASCII brackets may wrap them.
CODE_FACTS = frozenset({"ref", "code", "codes", "number", "phone", "id", "n", "count", "sid", "status_code"})


def _words_in_ascii_brackets(text: str) -> list[str]:
    wrong = []
    for match in ASCII_PAIR.finditer(text):
        inside = match.group(1)
        facts = set(PLACEHOLDER.findall(inside))
        if CJK.search(inside) or facts - CODE_FACTS:
            wrong.append(match.group(0))
    return wrong + MIXED_PAIR.findall(text)


def test_zh_cn_text_uses_full_width_brackets_around_chinese_words() -> None:
    offending = {
        key: found
        for key, texts in catalogue().items()
        if (found := _words_in_ascii_brackets(texts.get("zh-CN", "")))
    }
    assert offending == {}, "use （…） around Chinese words in zh-CN text: " + repr(offending)


def test_the_rule_keeps_ascii_brackets_around_codes_and_catches_words() -> None:
    assert _words_in_ascii_brackets("短信发不出去(21610)，工单 ({ref})") == []
    assert _words_in_ascii_brackets("• {where} ({backup})") == ["({backup})"]
    assert _words_in_ascii_brackets("网格(备班)") == ["(备班)"]
    assert _words_in_ascii_brackets("网格（备班)") == ["（备班)"]
