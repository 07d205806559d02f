"""Room keys as grid workers type them: 3-2-501, 3号楼2单元501室, full-width digits."""

from __future__ import annotations

import pytest

from gridline.routing.roster import RoomKey, tag_code, tag_label
from gridline.settings import Settings


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("3-2-501", ("3", "2", "501")),
        ("３－２－５０１", ("3", "2", "501")),
        ("3号楼2单元501室", ("3", "2", "501")),
        ("3栋2单元501", ("3", "2", "501")),
        ("3-501", ("3", "", "501")),
        ("12号楼302", ("12", "", "302")),
        ("501", ("", "", "501")),
    ],
)
def test_room_keys_parse(typed: str, key: tuple[str, str, str]) -> None:
    assert RoomKey.parse(typed) == RoomKey(*key)


@pytest.mark.parametrize("typed", ["", "楼道灯坏了", "3-2-501-9"])
def test_what_is_not_a_room_key(typed: str) -> None:
    assert RoomKey.parse(typed) is None


def test_a_room_key_prints_as_it_is_typed() -> None:
    assert str(RoomKey("3", "2", "501")) == "3-2-501" and str(RoomKey("", "", "12")) == "12"


def test_tags_by_code_or_label_in_either_language() -> None:
    settings = Settings()
    assert tag_code(settings, "独居老人") == tag_code(settings, "elderly, living alone") == "elderly_alone"
    assert tag_code(settings, "very_old") == "very_old"
    assert tag_code(settings, "unknown") is None
    assert tag_label(settings, "hardship", "zh-CN") == "困难户"
