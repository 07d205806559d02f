"""Evaluation reports have the shape of Rasa's, for any engine and any intent names."""

from __future__ import annotations

from pathlib import Path

import pytest

from gridline.nlu.embedded import EmbeddedEngine
from gridline.nlu.evaluate import cross_validate, entity_report, evaluate, folds, intent_report
from gridline.nlu.training_data import TrainingData, load_nlu_yaml
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
