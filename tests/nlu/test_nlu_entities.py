"""Address details come out with the right type, value and offsets into what the resident sent."""

from __future__ import annotations

import pytest

from gridline.nlu.entities import EntityExtractor, Gazetteer

GAZETTEER = Gazetteer.from_tables(
    {
        "compound": ["桐柏苑", "自来水公司家属院", "莲花苑", "莲花小区", "正弘山"],
        "address": ["桐柏路199号院", "桐柏路一九九号院"],
        "road": ["桐柏路", "西四环", "科学大道", "建设西路"],
    },
    {"莲花小区": "莲花苑", "桐柏路一九九号院": "桐柏路199号院"},
)


@pytest.fixture
def extractor() -> EntityExtractor:
    return EntityExtractor(GAZETTEER)


def found(extractor: EntityExtractor, text: str) -> list[tuple[str, str, str]]:
    """(entity, value, the text at its offsets) for each entity."""
    return [(e.entity, e.value, text[e.start : e.end]) for e in extractor.extract(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "俺住桐柏路199号院3号楼2单元501，停水了",
            [
                ("address", "桐柏路199号院", "桐柏路199号院"),
                ("building", "3号楼", "3号楼"),
                ("unit", "2单元", "2单元"),
                ("room", "501", "501"),
            ],
        ),
        ("住的是西四环13号院", [("address", "西四环13号院", "西四环13号院")]),
        ("在建设西路87号院门口", [("address", "建设西路87号院", "建设西路87号院")]),
        ("伏牛路88号院没水", [("address", "伏牛路88号院", "伏牛路88号院")]),  # a road not in the directory
        ("桐柏路一九九号院停电", [("address", "桐柏路199号院", "桐柏路一九九号院")]),
        ("莲花小区5栋", [("compound", "莲花苑", "莲花小区"), ("building", "5号楼", "5栋")]),
        ("正弘山电梯坏了", [("compound", "正弘山", "正弘山")]),
        (
            "俺们锦绣家园三号楼二单元",
            [
                ("compound", "锦绣家园", "锦绣家园"),
                ("building", "3号楼", "三号楼"),
                ("unit", "2单元", "二单元"),
            ],
        ),
        ("3-2-501漏水", [("building", "3号楼", "3"), ("unit", "2单元", "2"), ("room", "501", "501")]),
        ("７号楼１２０３室", [("building", "7号楼", "７号楼"), ("room", "1203", "１２０３室")]),
        ("楼上601天天半夜蹦迪", [("room", "601", "601")]),
    ],
)
def test_address_details(extractor: EntityExtractor, text: str, expected: list[tuple[str, str, str]]) -> None:
    assert found(extractor, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "俺们小区停水了",
        "物业不管小区乱停车",
        "老旧小区加装电梯咋申请",
        "住6楼，水压小",  # a floor, not a building
        "楼道灯不亮",
        "",
        "😀" * 10,
    ],
)
def test_no_false_address_details(extractor: EntityExtractor, text: str) -> None:
    assert found(extractor, text) == []


def test_offsets_survive_emoji_and_control_characters(extractor: EntityExtractor) -> None:
    text = "😀\x00桐柏苑\u200b3号楼"
    assert found(extractor, text) == [("compound", "桐柏苑", "桐柏苑"), ("building", "3号楼", "3号楼")]


def test_ten_thousand_characters_are_fine(extractor: EntityExtractor) -> None:
    text = "桐柏路199号院" + "啊" * 10_000 + "3号楼"
    assert [e.entity for e in extractor.extract(text)] == ["address", "building"]
