"""Which language a text is plainly written in, for channels that carry none (SMS)."""

from __future__ import annotations

import pytest

from gridline.i18n import Language, language_of_text


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("no water since yesterday", Language.EN),
        ("俺们楼停水了", Language.ZH_CN),
        ("Tongbai Road 199 停水了", Language.ZH_CN),  # a Chinese sentence with two English words
        ("There is no water at 颍河路56号院 building 2", Language.EN),  # English around a Chinese address
        ("The elevator at 桐柏路199号院3号楼2单元 is broken", Language.EN),
        ("物业不管 please help us 快来人", Language.ZH_CN),
        ("1", None),
        ("👍", None),
        ("", None),
        (None, None),
    ],
)
def test_the_language_of_a_text(text: str | None, language: Language | None) -> None:
    assert language_of_text(text) == language
