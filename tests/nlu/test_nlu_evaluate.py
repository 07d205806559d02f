"""Evaluation reports have the shape of Rasa's, for any engine and any intent names."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from gridline.nlu.embedded import EmbeddedEngine
from gridline.nlu.evaluate import (
    bootstrap_interval,
    coverage_report,
    cross_validate,
    entity_report,
    evaluate,
    folds,
    gold_report,
    intent_report,
    paraphrase_groups,
)
from gridline.nlu.training_data import TrainingData, TrainingExample, load_nlu_yaml
from gridline.nlu.types import Entity, NluResult

PER_INTENT_KEYS = {"precision", "recall", "f1-score", "support", "confused_with"}
AVERAGE_KEYS = {"precision", "recall", "f1-score", "support"}


@pytest.fixture
def pets(pets_file: Path) -> TrainingData:
    return load_nlu_yaml(pets_file)


def test_intent_report_has_rasas_keys_and_counts_confusions() -> None:
    gold = ["water_supply", "water_supply", "noise", "noise", "greet"]
    pred = ["water_supply", "drainage", "noise", "noise", "greet"]
    report = intent_report(gold, pred)
    assert report["accuracy"] == pytest.approx(0.8)
    assert set(report["water_supply"]) == PER_INTENT_KEYS
    assert report["water_supply"]["recall"] == 0.5
    assert report["water_supply"]["support"] == 2
    assert report["water_supply"]["confused_with"] == {"drainage": 1}
    assert report["drainage"]["precision"] == 0.0  # predicted but never the truth
    for avg in ("macro avg", "weighted avg"):
        assert set(report[avg]) >= AVERAGE_KEYS
        assert report[avg]["support"] == 5


def test_entity_report_scores_exact_spans() -> None:
    gold = [[Entity("address", "桐柏路199号院", 2, 10), Entity("building", "3号楼", 10, 13)]]
    found = [[Entity("address", "桐柏路199号院", 2, 10), Entity("building", "3号楼", 11, 13)]]
    report = entity_report(gold, found)
    assert report["address"]["f1-score"] == 1.0
    assert report["building"]["precision"] == 0.0 and report["building"]["support"] == 1
    assert report["micro avg"]["precision"] == 0.5
    assert {"micro avg", "macro avg", "weighted avg"} <= set(report)


async def test_any_parse_function_can_be_evaluated_sync_or_async(pets: TrainingData) -> None:
    data = pets

    async def always_cat(text: str) -> NluResult:
        return NluResult(text=text, intent="cat", confidence=0.9, engine="test")

    evaluation = await evaluate(data, always_cat)
    assert evaluation.intent_report()["accuracy"] == pytest.approx(1 / 3)
    assert len(evaluation.errors()) == 12
    assert evaluation.errors()[0]["intent_prediction"] == {"name": "cat", "confidence": 0.9}
    assert set(evaluation.latency()) == {"p50_ms", "p90_ms", "p99_ms", "mean_ms"}


async def test_cross_validation_trains_on_the_files_own_folds(pets: TrainingData) -> None:
    data = pets
    pieces = folds(data, 3)
    assert len(pieces) == 3
    for train, test in pieces:
        assert not {e.text for e in train.examples} & {e.text for e in test}
    evaluation = await cross_validate(data, 3)
    report = evaluation.intent_report()
    assert len(evaluation.predictions) == 18  # every example tested exactly once
    assert {"cat", "dog", "fish"} <= set(report)
    assert report["fish"]["recall"] >= 0.5


def test_cross_validation_refuses_impossible_folds(pets: TrainingData) -> None:
    data = pets
    with pytest.raises(ValueError):
        folds(data, 1)
    with pytest.raises(ValueError):
        folds(data, 100)


async def test_the_engine_is_good_on_the_heldout_split(engine: EmbeddedEngine, heldout_file: Path) -> None:
    evaluation = await evaluate(load_nlu_yaml(heldout_file), engine.parse)
    summary = evaluation.summary()
    # Measured 0.93 macro-F1; this floor only catches a broken model or broken data.
    assert summary["macro_f1"] >= 0.8
    assert summary["entity_micro_f1"] >= 0.85
    assert evaluation.confidence_report()["expected_calibration_error"] < 0.15


# A tiny set whose numbers are computed by hand (docs/nlu.md, "An honest report"):
#   water: 1 right of 3 gold, predicted once      → P 1,   R 1/3, F1 0.5
#   noise: 2 right of 2 gold, predicted 3 times   → P 2/3, R 1,   F1 0.8
#   greet: 0 right of 1 gold (an abstention)      → F1 0
#   macro over the 3 gold labels = 1.3 / 3; nlu_fallback (predicted twice, never gold) is no class.
TINY_GOLD = ["water_supply", "water_supply", "water_supply", "noise", "noise", "greet"]
TINY_PRED = ["water_supply", "nlu_fallback", "noise", "noise", "noise", "nlu_fallback"]
TINY_CONF = [0.9, 0.0, 0.6, 0.8, 0.4, 0.0]


def test_gold_report_averages_over_gold_labels_and_counts_abstentions_as_misses() -> None:
    report = gold_report(TINY_GOLD, TINY_PRED)
    assert report["per_label"]["water_supply"]["f1-score"] == pytest.approx(0.5)
    assert report["per_label"]["noise"]["precision"] == pytest.approx(2 / 3)
    assert report["per_label"]["noise"]["f1-score"] == pytest.approx(0.8)
    assert report["per_label"]["greet"]["f1-score"] == 0.0
    assert report["macro_f1"] == pytest.approx(1.3 / 3)
    assert report["accuracy"] == pytest.approx(0.5)
    assert report["abstained"] == 2
    assert report["predicted_only_labels"] == {"nlu_fallback": 2}
    assert set(report["per_label"]) == {"water_supply", "noise", "greet"}
    # Rasa's report beside it makes nlu_fallback a fourth class with F1 0: 1.3 / 4.
    assert intent_report(TINY_GOLD, TINY_PRED)["macro avg"]["f1-score"] == pytest.approx(1.3 / 4)


def test_coverage_report_counts_what_each_threshold_withholds() -> None:
    rows = {r["threshold"]: r for r in coverage_report(TINY_GOLD, TINY_PRED, TINY_CONF, (0.5, 0.7))}
    # 0.5: water 0.9 (right), noise 0.6 (wrong), noise 0.8 (right) are covered; noise 0.4 is withheld.
    assert rows[0.5]["coverage"] == 0.5
    assert rows[0.5]["accuracy_covered"] == pytest.approx(0.6667, abs=1e-4)
    assert rows[0.5]["macro_f1"] == pytest.approx(0.3333, abs=1e-4)  # water 0.5, noise 0.5, greet 0
    assert rows[0.5]["errors_withheld"] == 0.0
    assert rows[0.5]["right_withheld"] == pytest.approx(0.3333, abs=1e-4)
    # 0.7 also withholds the one wrong named answer.
    assert rows[0.7]["coverage"] == pytest.approx(0.3333, abs=1e-4)
    assert rows[0.7]["accuracy_covered"] == 1.0
    assert rows[0.7]["errors_withheld"] == 1.0


async def test_the_summary_leads_with_the_gold_label_macro_f1() -> None:
    answers = dict(zip([f"t{i}" for i in range(6)], zip(TINY_PRED, TINY_CONF, strict=True), strict=True))
    data = [TrainingExample(text, gold) for text, gold in zip(answers, TINY_GOLD, strict=True)]

    def parse(text: str) -> NluResult:
        intent, confidence = answers[text]
        return NluResult(text=text, intent=intent, confidence=confidence)

    summary = (await evaluate(data, parse)).summary()
    assert summary["macro_f1"] == pytest.approx(1.3 / 3)
    assert summary["intent_report_macro_f1"] == pytest.approx(1.3 / 4)
    assert summary["abstained"] == 2 and summary["predicted_only_labels"] == {"nlu_fallback": 2}


def _fold_texts(data: TrainingData, k: int, seed: int = 0, grouped: bool = False) -> list[set[str]]:
    return [{ex.text for ex in test} for _, test in folds(data, k, seed=seed, grouped=grouped)]


def test_folds_do_not_depend_on_file_order_and_are_stratified(train_file: Path) -> None:
    data = load_nlu_yaml(train_file)
    shuffled = TrainingData(examples=random.Random(7).sample(data.examples, len(data.examples)))
    assert _fold_texts(data, 5) == _fold_texts(shuffled, 5)
    assert _fold_texts(data, 5, seed=1) != _fold_texts(data, 5)  # the seed is what changes them
    for _, test in folds(data, 5):
        for intent in data.intents:
            expected = len(data.examples_for(intent)) / 5
            assert abs(sum(1 for ex in test if ex.intent == intent) - expected) <= 1


def test_an_intent_smaller_than_k_is_spread_over_folds() -> None:
    examples = [TrainingExample(f"cat {i}", "cat") for i in range(10)] + [
        TrainingExample(f"dog {i}", "dog") for i in range(3)
    ]
    pieces = folds(TrainingData(examples=examples), 5)
    assert sum(1 for _, test in pieces if any(ex.intent == "dog" for ex in test)) == 3
    assert sorted(len(test) for _, test in pieces) == [2, 2, 3, 3, 3]


def test_paraphrases_are_grouped_without_their_addresses() -> None:
    examples = [
        TrainingExample("下水道堵了", "drainage"),
        TrainingExample(
            "冬青小区4号楼下水道堵了",
            "drainage",
            (Entity("compound", "冬青小区", 0, 4), Entity("building", "4号楼", 4, 7)),
        ),
        TrainingExample("已经处理了", "x"),
        TrainingExample("已经处理了呀", "x"),
        TrainingExample("楼上天天半夜吵", "noise"),
    ]
    assert paraphrase_groups(examples) == [[0, 1], [2, 3], [4]]


def test_grouped_folds_keep_paraphrases_together_and_stay_stratified(train_file: Path) -> None:
    data = load_nlu_yaml(train_file)
    shuffled = TrainingData(examples=random.Random(7).sample(data.examples, len(data.examples)))
    assert _fold_texts(data, 5, grouped=True) == _fold_texts(shuffled, 5, grouped=True)
    fold_of = {text: i for i, texts in enumerate(_fold_texts(data, 5, grouped=True)) for text in texts}
    for intent in data.intents:
        examples = data.examples_for(intent)
        for group in paraphrase_groups(examples):
            assert len({fold_of[examples[i].text] for i in group}) == 1, [examples[i].text for i in group]
    sizes = [len(test) for _, test in folds(data, 5, grouped=True)]
    assert max(sizes) - min(sizes) <= 0.05 * len(data.examples) / 5
    for _, test in folds(data, 5, grouped=True):
        assert {ex.intent for ex in test} == set(data.intents)  # every intent is tested in every fold


def test_bootstrap_intervals_hold_the_score_and_pair_the_difference() -> None:
    gold = ["a"] * 50 + ["b"] * 50
    perfect = list(gold)
    half = ["a"] * 100  # every b missed: macro-F1 (2/3 + 0) / 2, accuracy 0.5
    assert bootstrap_interval(gold, perfect)["macro_f1"] == [1.0, 1.0]
    out = bootstrap_interval(gold, half, baseline=perfect)
    low, high = out["accuracy"]
    assert low < 0.5 < high
    assert out["macro_f1"][0] <= gold_report(gold, half)["macro_f1"] <= out["macro_f1"][1]
    assert out["difference"]["macro_f1"][1] < 0  # always worse than the baseline on every resample
    assert out["difference"]["macro_f1_share_better"] == 0.0
    assert bootstrap_interval(gold, half, seed=3) == bootstrap_interval(gold, half, seed=3)
