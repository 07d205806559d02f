"""The saved scorer computes exactly what the trained scikit-learn pipeline computes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gridline.nlu import classifier
from gridline.nlu.methods import METHODS
from gridline.nlu.scoring import Analyzer, LinearScorer
from gridline.nlu.training_data import load_nlu_yaml

TEXTS = ["猫咪一直叫", "鱼缸 水浑了  ", "小狗不吃饭", "the cat", "完全无关的话", "", "ＡＢＣ 猫猫猫猫"]


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("intents", [("cat", "dog", "fish"), ("cat", "dog")])
def test_scorer_matches_the_pipeline(pets_file: Path, method: str, intents: tuple[str, ...]) -> None:
    data = load_nlu_yaml(pets_file)
    examples = [ex for ex in data.examples if ex.intent in intents]
    pipeline = classifier.fit([ex.text for ex in examples], [ex.intent for ex in examples], method)
    scorer = LinearScorer.from_pipeline(pipeline)
    assert scorer.classes == list(pipeline.classes_)
    for text in TEXTS:
        assert np.abs(scorer.proba(text) - pipeline.predict_proba([text])[0]).max() < 1e-9, text


@pytest.mark.parametrize("text", ["俺家 停水了", "a  b", "x", "", "ＡＢ　ｃ"])
def test_character_ngrams_are_sklearns(text: str) -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer

    from gridline.nlu.text import normalise_for_classifier

    reference = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), preprocessor=normalise_for_classifier)
    assert Analyzer("char_wb", (1, 3))(text) == reference.build_analyzer()(text)


def test_coverage_is_low_for_unseen_writing(pets_file: Path) -> None:
    data = load_nlu_yaml(pets_file)
    pipeline = classifier.fit([ex.text for ex in data.examples], [ex.intent for ex in data.examples], "char_svm")
    scorer = LinearScorer.from_pipeline(pipeline)
    assert scorer.coverage("猫咪不吃饭") == 1.0
    assert scorer.coverage("Съешь же ещё этих мягких") == 0.0
