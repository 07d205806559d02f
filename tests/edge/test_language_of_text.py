"""Which language a text is plainly written in, for channels that carry none (SMS)."""

from __future__ import annotations

import pytest

from gridline.i18n import Language, language_of_text


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("no water since yesterday", Language.EN),
        ("俺们楼停水了", Language.ZH_CN),
        ("Tongbai Road 199 停水了", Language.ZH_CN),  # any Han character: Chinese
        ("1", None),
        ("👍", None),
        ("", None),
        (None, None),
    ],
)
def test_the_language_of_a_text(text: str | None, language: Language | None) -> None:
    assert language_of_text(text) == language
