"""The embedded intent classifier: TF-IDF n-gram features + a linear model, chosen by measurement.

Methods (``METHODS``), compared in ``bench/nlu_bench.py`` and ``docs/nlu.md``:

* ``char_lr`` — the baseline: character 1–4-gram TF-IDF + logistic regression.
* ``char_svm`` — character 1–3-gram TF-IDF + linear SVM, probabilities from a temperature-scaled
  softmax of the SVM scores (the chosen default: as accurate as anything tried, trains in well under
  a second, and its confidence is calibrated).
* ``char_word_svm`` — ``char_svm`` plus jieba word unigrams.
* ``char_pinyin_svm`` — character 1–2-grams + toneless pinyin syllable 1–2-grams, balanced class
  weights, the same calibrated SVM (the default since issue 14: ties the others on written text,
  keeps its accuracy on text from speech; docs/nlu.md).
* ``char_word_pinyin_svm`` — ``char_pinyin_svm`` plus jieba search-mode words.

Calibration: an SVM gives scores, not probabilities. :class:`CalibratedLinearSVC` learns one
temperature ``T`` so that ``softmax(scores / T)`` minimises the log-loss of *out-of-fold* scores
(each example scored by a model that did not see it). The resident is asked to choose a category when
the confidence is below ``settings.nlu.confidence_threshold``; that only makes sense if 0.45 means
"right about 45% of the time".

Only training uses this module (and scikit-learn): the saved model is a
:class:`gridline.nlu.scoring.LinearScorer` copied from the fitted pipeline.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax, softmax
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import LinearSVC

from gridline.nlu.methods import BASELINE_METHOD, DEFAULT_METHOD, METHODS
from gridline.nlu.text import jieba_search_words, jieba_words, normalise_for_classifier, pinyin_grams

__all__ = ["BASELINE_METHOD", "DEFAULT_METHOD", "METHODS", "CalibratedLinearSVC", "build_pipeline", "fit"]


def _char_features(ngrams: tuple[int, int]) -> TfidfVectorizer:
    return TfidfVectorizer(
        analyzer="char_wb",
        ngram_range=ngrams,
        sublinear_tf=True,
        preprocessor=normalise_for_classifier,
    )


def _word_features(tokenizer: Any = jieba_words) -> TfidfVectorizer:
    return TfidfVectorizer(
        tokenizer=tokenizer,
        token_pattern=None,
        lowercase=False,
        sublinear_tf=True,
        preprocessor=normalise_for_classifier,
    )


class CalibratedLinearSVC(ClassifierMixin, BaseEstimator):
    """A linear SVM whose ``predict_proba`` is a softmax of its scores at a fitted temperature."""

    def __init__(
        self, C: float = 0.5, calibration_folds: int = 5, random_state: int = 0, class_weight: str | None = None
    ) -> None:
        self.C = C
        self.calibration_folds = calibration_folds
        self.random_state = random_state
        self.class_weight = class_weight

    def _svm(self) -> LinearSVC:
        return LinearSVC(C=self.C, random_state=self.random_state, class_weight=self.class_weight)

    def fit(self, X: Any, y: Sequence[str]) -> CalibratedLinearSVC:
        labels = np.asarray(y)
        self.svm_ = self._svm().fit(X, labels)
        self.classes_ = self.svm_.classes_
        self.temperature_ = self._fit_temperature(X, labels)
        return self

    def _fit_temperature(self, X: Any, labels: np.ndarray) -> float:
        smallest = min(Counter(labels.tolist()).values())
        folds = min(self.calibration_folds, smallest)
        if folds < 2:  # too few examples of some intent to hold any out; a neutral temperature
            return 1.0
        cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=self.random_state)
        # Out-of-fold scores: each example scored by a model that did not see it, so the temperature
        # is fitted on held-out scores, not on the (over-confident) training fit.
        scores = cross_val_predict(self._svm(), X, labels, cv=cv, method="decision_function")
        if scores.ndim == 1:  # two intents: one score column
            scores = np.column_stack([-scores, scores])
        gold = np.searchsorted(self.classes_, labels)

        def nll(log_t: float) -> float:
            logp = log_softmax(scores / np.exp(log_t), axis=1)
            return float(-logp[np.arange(len(gold)), gold].mean())

        best = minimize_scalar(nll, bounds=(np.log(0.01), np.log(10.0)), method="bounded")
        return float(np.exp(best.x))

    def decision_function(self, X: Any) -> np.ndarray:
        scores: np.ndarray = self.svm_.decision_function(X)
        if scores.ndim == 1:
            scores = np.column_stack([-scores, scores])
        return scores

    def predict_proba(self, X: Any) -> np.ndarray:
        result: np.ndarray = softmax(self.decision_function(X) / self.temperature_, axis=1)
        return result

    def predict(self, X: Any) -> np.ndarray:
        return np.asarray(self.classes_[np.argmax(self.decision_function(X), axis=1)])


def build_pipeline(method: str = DEFAULT_METHOD, *, seed: int = 0) -> Pipeline:
    """An untrained pipeline for ``method`` (one of ``METHODS``)."""
    features: Any
    model: Any
    if method == "char_lr":
        features = _char_features((1, 4))
        model = LogisticRegression(C=20.0, max_iter=3000, random_state=seed)
    elif method == "char_svm":
        features = _char_features((1, 3))
        model = CalibratedLinearSVC(C=1.0, random_state=seed)
    elif method == "char_word_svm":
        features = FeatureUnion([("chars", _char_features((1, 3))), ("words", _word_features())])
        model = CalibratedLinearSVC(C=1.0, random_state=seed)
    elif method == "char_pinyin_svm":
        features = FeatureUnion([("chars", _char_features((1, 2))), ("pinyin", _word_features(pinyin_grams))])
        model = CalibratedLinearSVC(C=1.0, random_state=seed, class_weight="balanced")
    elif method == "char_word_pinyin_svm":
        features = FeatureUnion(
            [
                ("chars", _char_features((1, 2))),
                ("words", _word_features(jieba_search_words)),
                ("pinyin", _word_features(pinyin_grams)),
            ]
        )
        model = CalibratedLinearSVC(C=1.0, random_state=seed, class_weight="balanced")
    else:
        raise ValueError(f"unknown embedded NLU method {method!r}; choose one of {', '.join(METHODS)}")
    return Pipeline([("features", features), ("model", model)])


def fit(texts: Sequence[str], intents: Sequence[str], method: str = DEFAULT_METHOD) -> Pipeline:
    """Train a pipeline on ``texts`` labelled ``intents``."""
    if len(set(intents)) < 2:
        raise ValueError("training data needs at least two intents")
    pipeline = build_pipeline(method)
    pipeline.fit(list(texts), list(intents))
    return pipeline
