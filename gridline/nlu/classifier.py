"""The embedded intent classifier: TF-IDF features + a linear model, chosen by measurement.

Methods (``METHODS``) compared in ``bench/nlu_bench.py`` and ``docs/nlu.md``:

* ``char_lr`` — the baseline: character 1–4-gram TF-IDF + logistic regression.
* ``char_word_lr`` — the same plus jieba word unigrams/bigrams.
* ``char_word_svm`` — character + word features, linear SVM with sigmoid (Platt) calibration.

The pipeline is plain scikit-learn, so a trained model pickles with joblib and loads in milliseconds.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import LinearSVC

from gridline.nlu.text import normalise_for_classifier

METHODS = ("char_lr", "char_word_lr", "char_word_svm")
DEFAULT_METHOD = "char_word_lr"
BASELINE_METHOD = "char_lr"

_jieba_ready = False


def jieba_words(text: str) -> list[str]:
    """Words of ``text`` by jieba (its dictionary ships inside the package: nothing is downloaded)."""
    global _jieba_ready
    import jieba

    if not _jieba_ready:
        jieba.setLogLevel(logging.WARNING)
        _jieba_ready = True
    return [w for w in jieba.lcut(text) if w.strip()]


def _char_features() -> TfidfVectorizer:
    return TfidfVectorizer(
        analyzer="char_wb",
        ngram_range=(1, 4),
        sublinear_tf=True,
        min_df=1,
        preprocessor=normalise_for_classifier,
    )


def _word_features() -> TfidfVectorizer:
    return TfidfVectorizer(
        tokenizer=jieba_words,
        token_pattern=None,
        lowercase=False,
        ngram_range=(1, 2),
        sublinear_tf=True,
        preprocessor=normalise_for_classifier,
    )


def build_pipeline(method: str = DEFAULT_METHOD, *, seed: int = 0) -> Pipeline:
    """An untrained pipeline for ``method`` (one of ``METHODS``)."""
    if method == "char_lr":
        features: Any = _char_features()
    elif method in ("char_word_lr", "char_word_svm"):
        features = FeatureUnion([("chars", _char_features()), ("words", _word_features())])
    else:
        raise ValueError(f"unknown embedded NLU method {method!r}; choose one of {', '.join(METHODS)}")
    if method == "char_word_svm":
        model: Any = CalibratedClassifierCV(LinearSVC(C=0.5, random_state=seed), method="sigmoid", cv=3)
    else:
        model = LogisticRegression(C=20.0, max_iter=2000, random_state=seed)
    return Pipeline([("features", features), ("model", model)])


def fit(texts: Sequence[str], intents: Sequence[str], method: str = DEFAULT_METHOD) -> Pipeline:
    """Train a pipeline on ``texts`` labelled ``intents``."""
    if len(set(intents)) < 2:
        raise ValueError("training data needs at least two intents")
    pipeline = build_pipeline(method)
    pipeline.fit(list(texts), list(intents))
    return pipeline


def predict_proba(pipeline: Pipeline, text: str) -> list[tuple[str, float]]:
    """(intent, probability) for every intent the pipeline knows, best first."""
    probs = pipeline.predict_proba([text])[0]
    classes = pipeline.classes_
    order = np.argsort(-probs)
    return [(str(classes[i]), float(probs[i])) for i in order]


def vocabulary_coverage(pipeline: Pipeline, text: str) -> float:
    """Share of the text's character bigrams seen in training: low for gibberish or foreign text."""
    chars = _char_vectorizer(pipeline)
    if chars is None:
        return 1.0
    cleaned = normalise_for_classifier(text).replace(" ", "")
    bigrams = {cleaned[i : i + 2] for i in range(len(cleaned) - 1)}
    if not bigrams:
        return 1.0 if cleaned in chars.vocabulary_ else 0.0
    known = sum(1 for bg in bigrams if bg in chars.vocabulary_)
    return known / len(bigrams)


def _char_vectorizer(pipeline: Pipeline) -> TfidfVectorizer | None:
    features = pipeline.named_steps["features"]
    if isinstance(features, TfidfVectorizer):
        return features
    if isinstance(features, FeatureUnion):
        for name, part in features.transformer_list:
            if name == "chars":
                return part  # type: ignore[no-any-return]
    return None
