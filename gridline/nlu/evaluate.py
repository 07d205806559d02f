"""Evaluating any NLU engine on any Rasa-format file, with reports shaped like ``rasa test nlu``.

* :func:`evaluate` parses every example with a parse function (sync or async, so the Rasa client is
  evaluated exactly like the embedded engine) and returns an :class:`Evaluation`.
* :func:`intent_report` is Rasa's ``intent_report.json``: per intent ``precision``, ``recall``,
  ``f1-score``, ``support``, ``confused_with``; plus ``accuracy``, ``macro avg``, ``weighted avg``.
* :func:`entity_report` scores entities by exact span and type (per entity plus micro/macro/weighted
  averages), the way a resident's address is either right or not.
* :func:`gold_report` is the honest headline: macro-F1 over the *gold* labels only (an abstention,
  ``nlu_fallback`` for a text that has a real label, is a miss of that label; a label that is only
  ever predicted is not a class), accuracy, and what was abstained on. ``intent_report`` averages
  over predicted labels too, as Rasa does, so ``nlu_fallback`` becomes an extra class with F1 0.
* :func:`coverage_report`: at each confidence threshold, the share answered with an intent, their
  accuracy, and the gold macro-F1 when everything below the threshold counts as an abstention.
* :func:`folds` / :func:`cross_validate` train on K-1 folds of the file itself and test on the
  remaining fold, K times; the reports cover the predictions of all folds together (as Rasa's
  cross-validation does). Folds are stratified by intent, seeded, and independent of file order.
"""

from __future__ import annotations

import hashlib
import inspect
import itertools
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.metrics import classification_report

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

    def gold_report(self) -> dict[str, Any]:
        return gold_report([p.example.intent for p in self.predictions], [p.result.intent for p in self.predictions])

    def interval(self, baseline: Evaluation | None = None, *, seed: int = 0) -> dict[str, Any]:
        """Bootstrap 95 % intervals (:func:`bootstrap_interval`); paired with ``baseline`` on the same texts."""
        gold = [p.example.intent for p in self.predictions]
        other = None
        if baseline is not None:
            if [p.example.text for p in baseline.predictions] != [p.example.text for p in self.predictions]:
                raise ValueError("a paired interval needs both evaluations on the same examples in the same order")
            other = [p.result.intent for p in baseline.predictions]
        return bootstrap_interval(gold, [p.result.intent for p in self.predictions], baseline=other, seed=seed)

    def coverage_report(self, thresholds: Sequence[float] = DEFAULT_THRESHOLDS) -> list[dict[str, Any]]:
        return coverage_report(
            [p.example.intent for p in self.predictions],
            [p.result.intent for p in self.predictions],
            [p.result.confidence for p in self.predictions],
            thresholds,
        )

    def summary(self) -> dict[str, Any]:
        """The headline numbers: gold-label macro-F1 first (see :func:`gold_report`)."""
        gold = self.gold_report()
        intents = self.intent_report()
        entities = self.entity_report()
        return {
            "examples": len(self.predictions),
            "macro_f1": gold["macro_f1"],
            "accuracy": gold["accuracy"],
            "abstained": gold["abstained"],
            "predicted_only_labels": gold["predicted_only_labels"],
            "weighted_f1": gold["weighted_f1"],
            # Rasa's own macro average (gold and predicted labels), for comparison with `rasa test`.
            "intent_report_macro_f1": intents["macro avg"]["f1-score"],
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


def gold_report(y_true: Sequence[str], y_pred: Sequence[str]) -> dict[str, Any]:
    """Per gold label precision/recall/F1, and macro-F1 averaged over the gold labels only.

    * An abstention (``nlu_fallback`` predicted for a text whose gold label is something else) is a
      miss of the gold label: it lowers that label's recall and no label's precision.
    * A label that is predicted but never gold (``nlu_fallback`` on a test set without out-of-scope
      texts, or a wrong intent) is not a class: it is not averaged; a wrong real label still costs
      the precision of the label it was mistaken for when that label is gold somewhere.
    """
    if len(y_true) != len(y_pred):
        raise ValueError("gold and predicted labels differ in length")
    labels = sorted(set(y_true))
    predicted = Counter(y_pred)
    per_label: dict[str, dict[str, Any]] = {}
    for label in labels:
        tp = sum(1 for t, p in zip(y_true, y_pred, strict=True) if t == label and p == label)
        support = sum(1 for t in y_true if t == label)
        precision = tp / predicted[label] if predicted[label] else 0.0
        recall = tp / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_label[label] = {"precision": precision, "recall": recall, "f1-score": f1, "support": support}
    n = len(y_true)
    abstained = sum(1 for t, p in zip(y_true, y_pred, strict=True) if p == OUT_OF_SCOPE and t != OUT_OF_SCOPE)
    macro = sum(r["f1-score"] for r in per_label.values()) / len(labels) if labels else 0.0
    weighted = sum(r["f1-score"] * r["support"] for r in per_label.values()) / n if n else 0.0
    return {
        "macro_f1": macro,
        "weighted_f1": weighted,
        "accuracy": sum(1 for t, p in zip(y_true, y_pred, strict=True) if t == p) / n if n else 0.0,
        "examples": n,
        "gold_labels": len(labels),
        "abstained": abstained,
        "predicted_only_labels": {label: predicted[label] for label in sorted(set(predicted) - set(labels))},
        "per_label": per_label,
    }


# Bootstrap resamples behind every confidence interval; seeded, so a report is reproducible.
BOOTSTRAP_RESAMPLES = 1000


def _label_codes(y_true: Sequence[str], *others: Sequence[str]) -> tuple[np.ndarray, list[np.ndarray], int]:
    names = {label: i for i, label in enumerate(sorted(set(y_true).union(*others)))}
    return (
        np.array([names[y] for y in y_true], dtype=np.int64),
        [np.array([names[y] for y in other], dtype=np.int64) for other in others],
        len(names),
    )


def _macro_and_accuracy(gold: np.ndarray, pred: np.ndarray, n_labels: int) -> tuple[np.ndarray, np.ndarray]:
    """Gold-label macro-F1 and accuracy of each row of index-coded resamples (``gold_report``'s rule)."""
    rows = gold.shape[0]
    offset = (np.arange(rows) * n_labels)[:, None]
    hit = gold == pred
    support = np.bincount((gold + offset).ravel(), minlength=rows * n_labels).reshape(rows, n_labels)
    predicted = np.bincount((pred + offset).ravel(), minlength=rows * n_labels).reshape(rows, n_labels)
    tp = np.bincount((gold + offset)[hit], minlength=rows * n_labels).reshape(rows, n_labels)
    with np.errstate(divide="ignore", invalid="ignore"):
        f1 = np.where(support + predicted > 0, 2 * tp / (support + predicted), 0.0)
    is_gold = support > 0
    macro = (f1 * is_gold).sum(axis=1) / np.maximum(is_gold.sum(axis=1), 1)
    return macro, hit.mean(axis=1)


def bootstrap_interval(
    y_true: Sequence[str],
    y_pred: Sequence[str],
    *,
    baseline: Sequence[str] | None = None,
    level: float = 0.95,
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = 0,
) -> dict[str, Any]:
    """Percentile bootstrap intervals of gold-label macro-F1 and accuracy (examples resampled).

    With ``baseline`` (another engine's predictions for the *same* examples) also the paired
    interval of the difference ``y_pred − baseline``: both are scored on each resample, so the
    interval reflects how much the two differ on these examples, not each one's own noise. A
    difference interval that contains 0 is a tie on this data. (F1 is 2·TP / (gold + predicted),
    the same as ``gold_report``.)
    """
    others = [y_pred] if baseline is None else [y_pred, baseline]
    if any(len(o) != len(y_true) for o in others):
        raise ValueError("gold and predicted labels differ in length")
    gold, coded, n_labels = _label_codes(y_true, *others)
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(gold), size=(resamples, len(gold)))
    low, high = (1 - level) / 2 * 100, (1 + level) / 2 * 100

    def interval(values: np.ndarray) -> list[float]:
        return [round(float(np.percentile(values, low)), 4), round(float(np.percentile(values, high)), 4)]

    macro, accuracy = _macro_and_accuracy(gold[picks], coded[0][picks], n_labels)
    out: dict[str, Any] = {
        "level": level,
        "resamples": resamples,
        "macro_f1": interval(macro),
        "accuracy": interval(accuracy),
    }
    if baseline is not None:
        base_macro, base_accuracy = _macro_and_accuracy(gold[picks], coded[1][picks], n_labels)
        out["difference"] = {
            "macro_f1": interval(macro - base_macro),
            "accuracy": interval(accuracy - base_accuracy),
            "macro_f1_share_better": round(float((macro > base_macro).mean()), 3),
        }
    return out


def coverage_report(
    y_true: Sequence[str],
    y_pred: Sequence[str],
    confidence: Sequence[float],
    thresholds: Sequence[float] = DEFAULT_THRESHOLDS,
) -> list[dict[str, Any]]:
    """What each confidence threshold would do, over every example.

    For a threshold t an answer is *covered* when it names an intent (not ``nlu_fallback``) with
    confidence ≥ t; the rest are abstentions (the resident is asked, or triage reads it).
    ``coverage`` is the covered share, ``accuracy_covered`` their accuracy, ``macro_f1`` the gold
    macro-F1 with every uncovered answer an abstention, ``errors_withheld`` the share of wrong named
    answers it holds back (what abstaining catches) and ``right_withheld`` the share of right named
    answers it holds back (what it costs).
    """
    rows = []
    named = [p != OUT_OF_SCOPE for p in y_pred]
    wrong_named = sum(1 for t, p, k in zip(y_true, y_pred, named, strict=True) if k and t != p)
    right_named = sum(1 for t, p, k in zip(y_true, y_pred, named, strict=True) if k and t == p)
    for threshold in thresholds:
        covered = [k and c >= threshold for k, c in zip(named, confidence, strict=True)]
        answered = [p if k else OUT_OF_SCOPE for p, k in zip(y_pred, covered, strict=True)]
        n_covered = sum(covered)
        right_covered = sum(1 for t, p, k in zip(y_true, y_pred, covered, strict=True) if k and t == p)
        wrong_covered = n_covered - right_covered
        rows.append(
            {
                "threshold": threshold,
                "coverage": _ratio(n_covered, len(y_true)),
                "accuracy_covered": _ratio(right_covered, n_covered),
                "macro_f1": round(gold_report(y_true, answered)["macro_f1"], 4),
                "errors_withheld": _ratio(wrong_named - wrong_covered, wrong_named),
                "right_withheld": _ratio(right_named - right_covered, right_named),
            }
        )
    return rows


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


def folds(
    data: TrainingData, k: int, *, seed: int = 0, grouped: bool = False
) -> list[tuple[TrainingData, list[TrainingExample]]]:
    """K (training set, test examples) pairs: stratified by intent, seeded, independent of file order.

    Within each intent the examples are ordered by a seeded hash of their text, then dealt to the
    folds in turn, the dealing continuing from intent to intent (intents in name order) so that fold
    sizes differ by at most one. The same sentences therefore land in the same folds however the
    file is ordered, and an intent with fewer than K examples is still spread over several folds.

    ``grouped``: near-paraphrases (:func:`paraphrase_groups`) stay together in one fold, so a test
    sentence never has a reworded copy of itself in the training side. Within each intent the groups
    are ordered by a seeded hash and each goes to the fold holding fewest examples of that intent
    (then fewest in all, then the lowest number): still stratified, seeded and order-independent.
    """
    if k < 2:
        raise ValueError("cross-validation needs at least 2 folds")
    examples = data.examples
    if len(examples) < k:
        raise ValueError(f"{len(examples)} examples cannot be split into {k} folds")
    by_intent: dict[str, list[int]] = defaultdict(list)
    for index, example in enumerate(examples):
        by_intent[example.intent].append(index)
    assignment = [0] * len(examples)
    if grouped:
        sizes = [0] * k
        for intent in sorted(by_intent):
            members = by_intent[intent]
            groups = paraphrase_groups([examples[i] for i in members])
            keyed = sorted(
                ([members[j] for j in group] for group in groups),
                key=lambda g: min((_fold_key(examples[i], seed), i) for i in g),
            )
            here = [0] * k
            for group in keyed:
                fold = min(range(k), key=lambda f: (here[f], sizes[f], f))
                for index in group:
                    assignment[index] = fold
                here[fold] += len(group)
                sizes[fold] += len(group)
    else:
        dealt = 0
        for intent in sorted(by_intent):
            ordered = sorted(by_intent[intent], key=lambda i: (_fold_key(examples[i], seed), i))
            for index in ordered:
                assignment[index] = dealt % k
                dealt += 1
    out = []
    for fold in range(k):
        train = TrainingData(
            examples=[ex for ex, f in zip(examples, assignment, strict=True) if f != fold],
            synonyms=data.synonyms,
            regexes=data.regexes,
            lookups=data.lookups,
        )
        out.append((train, [ex for ex, f in zip(examples, assignment, strict=True) if f == fold]))
    return out


# Two sentences of one intent are paraphrases of each other when the Jaccard similarity of their
# character-bigram sets (entity spans, digits and punctuation removed) is at least this.
PARAPHRASE_SIMILARITY = 0.5


def _skeleton(example: TrainingExample) -> str:
    from gridline.nlu.text import normalise_for_classifier

    text = example.text
    for entity in sorted(example.entities, key=lambda e: -e.start):
        text = text[: entity.start] + text[entity.end :]
    return "".join(ch for ch in normalise_for_classifier(text) if ch.isalpha())


def _bigrams(text: str) -> frozenset[str]:
    return frozenset(text[i : i + 2] for i in range(len(text) - 1)) or frozenset({text})


def paraphrase_groups(examples: Sequence[TrainingExample]) -> list[list[int]]:
    """Indices of ``examples`` in groups of near-paraphrases (connected components of similarity).

    Two sentences are linked when their character-bigram sets, without entity spans, digits and
    punctuation (the address and room numbers a template varies), overlap with a Jaccard similarity
    of at least :data:`PARAPHRASE_SIMILARITY`: 「冬青小区4号楼下水道堵了」 and 「下水道堵了」, 「已经处理了」
    and 「已经处理了呀」 (not 「没收到消息」 and 「没收到信息」: 2 of 6 bigrams). Groups are ordered by
    their first index, indices ascending.
    """
    grams = [_bigrams(_skeleton(ex)) for ex in examples]
    parent = list(range(len(examples)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(len(examples)):
        for j in range(i):
            a, b = grams[i], grams[j]
            if len(a & b) >= PARAPHRASE_SIMILARITY * len(a | b):
                parent[root(i)] = root(j)
    groups: dict[int, list[int]] = defaultdict(list)
    for i in range(len(examples)):
        groups[root(i)].append(i)
    return sorted(groups.values())


def _fold_key(example: TrainingExample, seed: int) -> str:
    return hashlib.sha256(f"{seed}|{example.intent}|{example.text}".encode()).hexdigest()


def embedded_trainer(method: str | None = None) -> TrainFn:
    """A :data:`TrainFn` training the embedded engine (``method`` defaults to the chosen one)."""
    from gridline.nlu.embedded import EmbeddedEngine
    from gridline.nlu.methods import DEFAULT_METHOD

    def train(data: TrainingData) -> ParseFn:
        return EmbeddedEngine.fit(data, method or DEFAULT_METHOD).parse_sync

    return train


async def cross_validate(
    data: TrainingData, k: int, train: TrainFn | None = None, *, seed: int = 0, grouped: bool = False
) -> Evaluation:
    """Train on K-1 folds, test on the held-back fold, K times; one evaluation over all folds."""
    trainer = train or embedded_trainer()
    combined = Evaluation()
    for fold_train, fold_test in folds(data, k, seed=seed, grouped=grouped):
        parse = trainer(fold_train)
        part = await evaluate(fold_test, parse)
        combined.predictions.extend(part.predictions)
    return combined
