"""Evaluating any NLU engine on any Rasa-format file, with reports shaped like ``rasa test nlu``.

* :func:`evaluate` parses every example with a parse function (sync or async, so the Rasa client is
  evaluated exactly like the embedded engine) and returns an :class:`Evaluation`.
* :func:`intent_report` is Rasa's ``intent_report.json``: per intent ``precision``, ``recall``,
  ``f1-score``, ``support``, ``confused_with``; plus ``accuracy``, ``macro avg``, ``weighted avg``.
* :func:`entity_report` scores entities by exact span and type (per entity plus micro/macro/weighted
  averages), the way a resident's address is either right or not.
* :func:`cross_validate` trains on K-1 folds of the file itself and tests on the remaining fold, K
  times; the reports cover the predictions of all folds together (as Rasa's cross-validation does).
"""

from __future__ import annotations

import inspect
import itertools
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.metrics import classification_report
from sklearn.model_selection import KFold, StratifiedKFold

from gridline.nlu.training_data import TrainingData, TrainingExample
from gridline.nlu.types import OUT_OF_SCOPE, Entity, NluResult

ParseFn = Callable[[str], NluResult | Awaitable[NluResult]]
# Builds a parse function from training data (one fold); the embedded engine's is the default.
TrainFn = Callable[[TrainingData], ParseFn]

DEFAULT_THRESHOLDS = (0.2, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.7, 0.8)


@dataclass
class Prediction:
    example: TrainingExample
    result: NluResult
    seconds: float

    @property
    def correct(self) -> bool:
        return self.result.intent == self.example.intent


@dataclass
class Evaluation:
    """Predictions for a set of examples, and the reports computed from them."""

    predictions: list[Prediction] = field(default_factory=list)

    def intent_report(self) -> dict[str, Any]:
        return intent_report([p.example.intent for p in self.predictions], [p.result.intent for p in self.predictions])

    def entity_report(self) -> dict[str, Any]:
        gold = [p.example.entities for p in self.predictions]
        return entity_report(gold, [p.result.entities for p in self.predictions])

    def errors(self) -> list[dict[str, Any]]:
        """Misclassified examples in Rasa's ``intent_errors.json`` shape."""
        return [
            {
                "text": p.example.text,
                "intent": p.example.intent,
                "intent_prediction": {"name": p.result.intent, "confidence": p.result.confidence},
            }
            for p in self.predictions
            if not p.correct
        ]

    def latency(self) -> dict[str, float]:
        """Parse time percentiles in milliseconds."""
        if not self.predictions:
            return {"p50_ms": 0.0, "p90_ms": 0.0, "p99_ms": 0.0, "mean_ms": 0.0}
        ms = np.array([p.seconds * 1000 for p in self.predictions])
        return {
            "p50_ms": round(float(np.percentile(ms, 50)), 3),
            "p90_ms": round(float(np.percentile(ms, 90)), 3),
            "p99_ms": round(float(np.percentile(ms, 99)), 3),
            "mean_ms": round(float(ms.mean()), 3),
        }

    def confidence_report(self, thresholds: Sequence[float] = DEFAULT_THRESHOLDS) -> dict[str, Any]:
        """How confidence relates to correctness: calibration error and what each threshold would do.

        Only answers that name an intent count here: a "not understood" answer (``nlu_fallback``)
        never skips the question to the resident, whatever its confidence. For a threshold t:
        ``accepted`` is the share of those answers at or above t (filed without asking),
        ``accuracy_accepted`` their accuracy, ``errors_caught`` the share of their errors below t
        (the resident is asked to choose instead of getting a wrong category).
        """
        named = [p for p in self.predictions if p.result.intent != OUT_OF_SCOPE]
        conf = np.array([p.result.confidence for p in named], dtype=float)
        right = np.array([p.correct for p in named], dtype=bool)
        n_errors = int((~right).sum())
        rows = []
        for t in thresholds:
            accepted = conf >= t
            rows.append(
                {
                    "threshold": t,
                    "accepted": _ratio(int(accepted.sum()), len(conf)),
                    "accuracy_accepted": _ratio(int((accepted & right).sum()), int(accepted.sum())),
                    "errors_caught": _ratio(int((~accepted & ~right).sum()), n_errors),
                }
            )
        return {
            "expected_calibration_error": round(expected_calibration_error(conf, right), 4),
            "not_understood": _ratio(len(self.predictions) - len(named), len(self.predictions)),
            "thresholds": rows,
        }

    def summary(self) -> dict[str, Any]:
        intents = self.intent_report()
        entities = self.entity_report()
        return {
            "examples": len(self.predictions),
            "accuracy": intents["accuracy"],
            "macro_f1": intents["macro avg"]["f1-score"],
            "weighted_f1": intents["weighted avg"]["f1-score"],
            "entity_micro_f1": entities["micro avg"]["f1-score"],
            "latency": self.latency(),
        }


def _ratio(a: int, b: int) -> float:
    return round(a / b, 4) if b else 0.0


def expected_calibration_error(confidence: np.ndarray, correct: np.ndarray, bins: int = 10) -> float:
    """Mean |accuracy − confidence| over equal-width confidence bins, weighted by bin size."""
    if len(confidence) == 0:
        return 0.0
    edges = np.linspace(0.0, 1.0, bins + 1)
    total = 0.0
    for lo, hi in itertools.pairwise(edges):
        in_bin = (confidence > lo) & (confidence <= hi) if lo > 0 else (confidence >= lo) & (confidence <= hi)
        if in_bin.any():
            total += in_bin.sum() * abs(correct[in_bin].mean() - confidence[in_bin].mean())
    return float(total / len(confidence))


async def _call(parse: ParseFn, text: str) -> NluResult:
    outcome = parse(text)
    if inspect.isawaitable(outcome):
        return await outcome
    return outcome


async def evaluate(data: TrainingData | Sequence[TrainingExample], parse: ParseFn) -> Evaluation:
    """Parse every example of ``data`` with ``parse`` and keep what came back."""
    examples = data.examples if isinstance(data, TrainingData) else list(data)
    evaluation = Evaluation()
    for example in examples:
        started = time.perf_counter()
        result = await _call(parse, example.text)
        evaluation.predictions.append(Prediction(example, result, time.perf_counter() - started))
    return evaluation


def intent_report(y_true: Sequence[str], y_pred: Sequence[str]) -> dict[str, Any]:
    """Rasa's ``intent_report.json`` for gold intents ``y_true`` and predictions ``y_pred``."""
    labels = sorted(set(y_true) | set(y_pred))
    if not labels:
        empty = {"precision": 0.0, "recall": 0.0, "f1-score": 0.0, "support": 0}
        return {"accuracy": 0.0, "macro avg": dict(empty), "weighted avg": dict(empty)}
    report: dict[str, Any] = classification_report(
        list(y_true), list(y_pred), labels=labels, output_dict=True, zero_division=0
    )
    # sklearn gives "micro avg" instead of "accuracy" when labels differ from y_true's; Rasa has both.
    report["accuracy"] = float(np.mean([t == p for t, p in zip(y_true, y_pred, strict=True)])) if y_true else 0.0
    confusions: dict[str, Counter[str]] = defaultdict(Counter)
    for gold, pred in zip(y_true, y_pred, strict=True):
        if gold != pred:
            confusions[gold][pred] += 1
    for label in labels:
        entry = report.get(label)
        if isinstance(entry, dict):
            entry["support"] = int(entry["support"])
            entry["confused_with"] = dict(confusions[label].most_common(3))
    for avg in ("macro avg", "weighted avg", "micro avg"):
        if avg in report:
            report[avg]["support"] = int(report[avg]["support"])
    return report


def entity_report(gold: Sequence[Sequence[Entity]], predicted: Sequence[Sequence[Entity]]) -> dict[str, Any]:
    """Precision/recall/F1 per entity type on exact (type, start, end) matches, plus averages."""
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    for gold_ents, pred_ents in zip(gold, predicted, strict=True):
        gold_keys = Counter((e.entity, e.start, e.end) for e in gold_ents)
        pred_keys = Counter((e.entity, e.start, e.end) for e in pred_ents)
        for key, count in (gold_keys & pred_keys).items():
            tp[key[0]] += count
        for key, count in (pred_keys - gold_keys).items():
            fp[key[0]] += count
        for key, count in (gold_keys - pred_keys).items():
            fn[key[0]] += count
    labels = sorted(set(tp) | set(fp) | set(fn))
    report: dict[str, Any] = {}
    for label in labels:
        report[label] = _prf(tp[label], fp[label], fn[label])
    micro = _prf(sum(tp.values()), sum(fp.values()), sum(fn.values()))
    report["micro avg"] = micro
    per_label = [report[label] for label in labels]
    support = sum(r["support"] for r in per_label)
    report["macro avg"] = _average(per_label, [1.0] * len(per_label), support)
    report["weighted avg"] = _average(per_label, [float(r["support"]) for r in per_label], support)
    return report


def _prf(tp: int, fp: int, fn: int) -> dict[str, Any]:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1-score": f1, "support": tp + fn}


def _average(rows: list[dict[str, Any]], weights: list[float], support: int) -> dict[str, Any]:
    total = sum(weights)
    out: dict[str, Any] = {"support": support}
    for key in ("precision", "recall", "f1-score"):
        out[key] = sum(r[key] * w for r, w in zip(rows, weights, strict=True)) / total if total else 0.0
    return out


def folds(data: TrainingData, k: int, *, seed: int = 0) -> list[tuple[TrainingData, list[TrainingExample]]]:
    """K (training set, test examples) pairs; stratified by intent when every intent has ≥ K examples."""
    if k < 2:
        raise ValueError("cross-validation needs at least 2 folds")
    examples = data.examples
    if len(examples) < k:
        raise ValueError(f"{len(examples)} examples cannot be split into {k} folds")
    intents = [ex.intent for ex in examples]
    counts = Counter(intents)
    splitter: Any
    if min(counts.values()) >= k:
        splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
        splits = splitter.split(np.zeros(len(examples)), intents)
    else:  # a tiny intent cannot appear in every fold; plain shuffled folds then
        splitter = KFold(n_splits=k, shuffle=True, random_state=seed)
        splits = splitter.split(np.zeros(len(examples)))
    out = []
    for train_idx, test_idx in splits:
        train = TrainingData(
            examples=[examples[i] for i in train_idx],
            synonyms=data.synonyms,
            regexes=data.regexes,
            lookups=data.lookups,
        )
        out.append((train, [examples[i] for i in test_idx]))
    return out


def embedded_trainer(method: str | None = None) -> TrainFn:
    """A :data:`TrainFn` training the embedded engine (``method`` defaults to the chosen one)."""
    from gridline.nlu.embedded import EmbeddedEngine
    from gridline.nlu.methods import DEFAULT_METHOD

    def train(data: TrainingData) -> ParseFn:
        return EmbeddedEngine.fit(data, method or DEFAULT_METHOD).parse_sync

    return train


async def cross_validate(data: TrainingData, k: int, train: TrainFn | None = None, *, seed: int = 0) -> Evaluation:
    """Train on K-1 folds, test on the held-back fold, K times; one evaluation over all folds."""
    trainer = train or embedded_trainer()
    combined = Evaluation()
    for fold_train, fold_test in folds(data, k, seed=seed):
        parse = trainer(fold_train)
        part = await evaluate(fold_test, parse)
        combined.predictions.extend(part.predictions)
    return combined
