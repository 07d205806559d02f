"""A message that is only a place — an address, maybe with a greeting — says where, not what is wrong.

The conversation asks what the problem is instead of filing a case in a category guessed from an
address (``core.conversation.understood``); this is how it knows, from the entity extractor.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from gridline.nlu.embedded import EmbeddedEngine
from gridline.nlu.entities import EntityExtractor, Gazetteer
from gridline.nlu.places import only_a_place
from gridline.nlu.training_data import load_nlu_yaml

EXTRACTOR = EntityExtractor(
    Gazetteer.from_tables(
        {"compound": ["莲花苑", "莲花小区"], "address": ["桐柏路199号院"], "road": ["桐柏路", "红松路", "文化路"]},
        {"莲花小区": "莲花苑"},
    )
)


def place_of(text: str) -> str | None:
    return only_a_place(text, EXTRACTOR.extract(text))


@pytest.mark.parametrize(
    ("text", "place"),
    [
        ("红松路12号3单元", "红松路12号3单元"),
        ("莲花小区3号楼2单元", "莲花小区3号楼2单元"),
        ("桐柏路199号院", "桐柏路199号院"),
        ("金水区文化路街道 3号楼", "金水区文化路街道 3号楼"),
        ("你好，桐柏路199号院", "桐柏路199号院"),
        ("网格长您好！我家住在莲花小区5号楼1单元302", "莲花小区5号楼1单元302"),
        ("桐柏路199号院3号楼6楼。", "桐柏路199号院3号楼6楼"),
        ("在吗 红松路12号", "红松路12号"),
    ],
)
def test_an_address_alone_or_with_a_greeting_is_only_a_place(text: str, place: str) -> None:
    assert place_of(text) == place


@pytest.mark.parametrize(
    "text",
    [
        "红松路12号3单元停水了",
        "莲花小区3号楼2单元楼道灯不亮",
        "桐柏路199号院的网格长是谁",
        "你好",
        "在吗",
        "停水了",
        # An area's suffix (社区, 区, 村) at the end of a problem does not make the problem a name.
        "垃圾没人清理社区",
        "物业不管社区",
        "谢谢",
        "",
        "😀",
    ],
)
def test_a_message_that_says_something_else_is_not(text: str) -> None:
    assert place_of(text) is None


def test_a_building_alone_is_a_place() -> None:
    assert place_of("3号楼") == "3号楼"


def test_the_trained_engine_finds_the_places_too(engine: EmbeddedEngine) -> None:
    """Through the engine that classifies residents' messages (its extractor has the directory)."""
    for text in ("红松路12号3单元", "莲花小区3号楼2单元", "桐柏路199号院", "金水区文化路街道 3号楼"):
        result = engine.parse_sync(text)
        assert only_a_place(text, result.entities) == text, text
    result = engine.parse_sync("桐柏路199号院停水了")
    assert only_a_place("桐柏路199号院停水了", result.entities) is None


def test_no_sentence_of_the_training_data_or_the_held_out_split_is_only_a_place(
    engine: EmbeddedEngine, train_file: Path, heldout_file: Path
) -> None:
    """Every one of them says what is wrong (or asks something): none would be asked 「什么问题？」."""
    for path in (train_file, heldout_file):
        texts = [ex.text for ex in load_nlu_yaml(path).examples]
        assert len(texts) > 200
        asked = [t for t in texts if only_a_place(t, engine.parse_sync(t).entities) is not None]
        assert asked == [], path.name
