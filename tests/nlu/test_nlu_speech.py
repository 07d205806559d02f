"""Text that came from speech: homophones must not change what a report is about."""

from __future__ import annotations

from pypinyin import lazy_pinyin

from gridline.nlu.embedded import EmbeddedEngine
from gridline.nlu.speech import speech_variant, speech_variants
from gridline.nlu.text import pinyin_grams
from gridline.nlu.training_data import TrainingExample, load_nlu_yaml


def test_a_recognisers_homophone_of_a_water_outage_is_still_water(engine: EmbeddedEngine, train_file) -> None:
    # 停水 (stopped water) as a recogniser writes it: 亭水 / 庭水 sound the same, mean nothing.
    heard = ["小区又亭水了，啥时候来水", "俺家庭水两天了"]
    training = {ex.text for ex in load_nlu_yaml(train_file).examples}
    for text in heard:
        assert "亭水" not in "".join(training) and "庭水" not in "".join(training)
        result = engine.parse_sync(text)
        assert result.intent == "water_supply", (text, result.intent, result.confidence)


def test_pinyin_features_are_the_same_for_homophones() -> None:
    assert pinyin_grams("停水") == pinyin_grams("亭水") == ["ting", "shui", "ting_shui"]
    assert pinyin_grams("电梯") == pinyin_grams("电题")
    assert pinyin_grams("no chinese 123") == []


def test_a_speech_variant_sounds_like_the_sentence_and_is_reproducible() -> None:
    text = "红松路30号院5号楼停水大半天了，厨房水龙头一拧光响不出水"
    variant = speech_variant(text, rate=0.5)
    assert variant != text and len(variant) == len(text)
    assert lazy_pinyin(variant) == lazy_pinyin(text)  # same sounds, other characters
    assert speech_variant(text, rate=0.5) == variant  # same seed, same variant
    assert speech_variant(text, rate=0.5, seed=1) != variant
    assert speech_variant(text, rate=0.0) == text


def test_speech_variants_keep_the_intents() -> None:
    examples = [TrainingExample("俺家停水了", "water_supply"), TrainingExample("电梯坏了", "elevator")]
    variants = speech_variants(examples, rate=1.0)
    assert [v.intent for v in variants] == ["water_supply", "elevator"]
    assert all(v.text != ex.text for v, ex in zip(variants, examples, strict=True))
