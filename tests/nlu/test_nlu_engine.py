"""The embedded engine understands residents the way they write."""

from __future__ import annotations

from pathlib import Path

import pytest

from gridline.nlu.embedded import EmbeddedEngine, load
from gridline.nlu.engines import build_engine, clear_cache
from gridline.nlu.text import normalise_for_classifier
from gridline.nlu.types import ALL_INTENTS, OUT_OF_SCOPE
from gridline.settings import NluSettings, Settings
from tests.nlu.contract import TYPICAL_SENTENCES


@pytest.mark.parametrize(
    ("text", "expected"),
    TYPICAL_SENTENCES,
)
async def test_typical_sentences_get_the_right_intent(engine: EmbeddedEngine, text: str, expected: set[str]) -> None:
    result = await engine.parse(text)
    assert result.intent in expected, result.ranking[:3]
    assert result.engine == "embedded"
    assert result.model_version == engine.version


def test_confidence_and_ranking_are_probabilities(engine: EmbeddedEngine) -> None:
    result = engine.parse_sync("俺们楼从昨天就没水了咋弄")
    assert 0.0 < result.confidence <= 1.0
    assert result.ranking[0].name == result.intent
    assert [s.confidence for s in result.ranking] == sorted((s.confidence for s in result.ranking), reverse=True)
    assert all(s.name in ALL_INTENTS for s in result.ranking)


def test_entities_carry_offsets_into_the_original_text(engine: EmbeddedEngine) -> None:
    text = "俺住桐柏路199号院3号楼2单元501，家里停水了"
    result = engine.parse_sync(text)
    found = {(e.entity, e.value) for e in result.entities}
    assert found == {("address", "桐柏路199号院"), ("building", "3号楼"), ("unit", "2单元"), ("room", "501")}
    for ent in result.entities:
        assert text[ent.start : ent.end].startswith(ent.value[0])


def test_saved_model_loads_and_answers_the_same(tmp_path: Path, engine: EmbeddedEngine) -> None:
    path = engine.save(tmp_path)
    assert path.name == f"embedded-{engine.version}.pickle"
    assert path.with_suffix(".json").is_file()
    loaded = load(tmp_path)
    text = "暖气片冰凉冰凉的"
    assert loaded.parse_sync(text).to_rasa() == engine.parse_sync(text).to_rasa()


def test_build_engine_trains_once_then_loads_from_the_model_dir(tmp_path: Path, train_file: Path) -> None:
    settings = Settings(nlu=NluSettings(model_dir=str(tmp_path), training_data=str(train_file)))
    clear_cache()
    first = build_engine(settings)
    assert list(tmp_path.glob("embedded-*.pickle"))
    assert build_engine(settings) is first  # cached per process
    clear_cache()
    again = build_engine(settings)
    assert again is not first
    assert again.name == "embedded"


@pytest.mark.parametrize(
    "text",
    ["", "   ", "😀😀😀", "12345678", "\x00\x07\x1b[31m", "？？？！！！"],
)
def test_unusable_text_is_not_understood_rather_than_an_error(engine: EmbeddedEngine, text: str) -> None:
    result = engine.parse_sync(text)
    assert result.intent == OUT_OF_SCOPE
    assert result.confidence == 0.0
    assert result.note and result.note.startswith("not_understood")


@pytest.mark.parametrize(
    "text",
    ["https://example.com/abc", "http://t.cn/A6xyz", "www.baidu.com", "example.com/x?a=1 ", "https://b23.tv/AbC"],
)
def test_a_link_alone_is_not_understood(engine: EmbeddedEngine, text: str) -> None:
    # Its letters are not words (a bare link was a status question, check_status 0.39).
    result = engine.parse_sync(text)
    assert result.intent == OUT_OF_SCOPE, result.ranking[:3]
    assert result.note and result.note.startswith("not_understood")


def test_words_beside_a_link_are_read_without_it() -> None:
    assert normalise_for_classifier("http://t.cn/A6xyz点击领取") == "点击领取"
    assert normalise_for_classifier("俺家停水了 https://example.com/p/1 快来") == "俺家停水了 快来"
    # Not links: decimals, building numbers, e-mail addresses.
    for text in ("水压1.5公斤", "3.5号楼", "邮箱 a@qq.com"):
        assert normalise_for_classifier(text) == text


async def test_a_report_with_a_link_is_classified_by_its_words(engine: EmbeddedEngine) -> None:
    result = await engine.parse("楼下停水两天了，通知在这 https://example.com/notice/12")
    assert result.intent == "water_supply", result.ranking[:3]


@pytest.mark.parametrize(
    "text",
    [
        "停水" * 5000,
        "俺家停电了 please help ASAP",
        "电梯坏了\x00\x08了",
        "ｗａｔｅｒ没了，１２３４",
        "qwertyuiop asdfghjkl",
    ],
)
def test_odd_text_still_gives_a_result(engine: EmbeddedEngine, text: str) -> None:
    result = engine.parse_sync(text)
    assert result.intent in (*ALL_INTENTS, OUT_OF_SCOPE)
    assert 0.0 <= result.confidence <= 1.0


@pytest.mark.parametrize("text", ["今天天气真不错啊，出去转转", "给俺讲个笑话呗", "点击链接领取大奖"])
def test_chit_chat_is_not_filed_under_a_category(engine: EmbeddedEngine, text: str) -> None:
    result = engine.parse_sync(text)
    assert result.intent == OUT_OF_SCOPE, result.ranking[:3]
    assert result.confidence == 0.0
    assert result.note and result.note.startswith("not_understood:out_of_scope")
    # The resident can still be offered the likeliest categories.
    assert result.ranking and all(s.name in ALL_INTENTS for s in result.ranking)


def test_the_reject_class_is_learned_from_the_companion_file(engine: EmbeddedEngine) -> None:
    assert OUT_OF_SCOPE in engine.scorer.classes
    assert engine.model.metadata["intents"] == sorted([*ALL_INTENTS, OUT_OF_SCOPE])


def test_trapped_in_the_lift_is_an_emergency_end_to_end(engine: EmbeddedEngine) -> None:
    from gridline.nlu.priority import assess_priority

    result = engine.parse_sync("电梯里困住人了快来人")
    assert assess_priority(result).priority == "emergency"


def test_changed_training_data_gets_a_new_model_version(tmp_path: Path, pets_file: Path) -> None:
    from gridline.nlu.engines import embedded_engine

    data = tmp_path / "nlu" / "train.yml"
    data.parent.mkdir()
    data.write_text(pets_file.read_text(encoding="utf-8"), encoding="utf-8")
    models = tmp_path / "models"
    first = embedded_engine(data, models)
    assert embedded_engine(data, models) is first
    data.write_text(data.read_text(encoding="utf-8") + "    - 鹦鹉学舌\n", encoding="utf-8")
    second = embedded_engine(data, models)
    assert second.version != first.version
    assert {p.name for p in models.glob("*.pickle")} == {
        f"embedded-{first.version}.pickle",
        f"embedded-{second.version}.pickle",
    }
    assert second.model.metadata["examples"] == first.model.metadata["examples"] + 1
