"""NLU method search with nested selection: is anything measurably better than the char-SVM baseline?

For each data set (Gridline's training data with its companions, and the public set in
config/nlu/public/) and each of 5 paraphrase-grouped outer folds (``gridline.nlu.evaluate.folds``,
seed 0), every *base model* is

* cross-validated on the outer training side alone (5 inner folds, stratified and grouped by the same
  paraphrase groups), giving out-of-fold decision scores of the training side, and
* trained on the whole outer training side and scored on the outer test fold.

Candidates are base models and weighted sums of their decision scores (a sum of linear models over
L2-normalised TF-IDF blocks is itself such a model, so any of them could be shipped as a
``LinearScorer``), and optionally ``--stack``: a second-level logistic regression over the
concatenated out-of-fold scores (stacking). **Nested selection**: in each outer fold the candidate with
the best inner macro-F1 is picked and only then scored on the outer test fold, so the reported
``nested`` figure is not the figure the choice was made on. Every candidate's outer figure is listed
too, and every difference to the baseline (``char_svm``) is paired: per fold, and a bootstrap 95 %
interval over the sentences (``gridline.nlu.evaluate.bootstrap_interval``).

Bare classifiers (no abstention rules, no reject-class logic): the bench (``nlu_bench.py``) measures
the engine as shipped. Per-label F1 and the most frequent confusions of the chosen method are in the
output for the error analysis in docs/nlu.md. Decision scores are cached in ``--cache`` (default
/tmp/nlu-cache/search), so a rerun with other candidates is seconds.

    nice -n 10 .venv/bin/python bench/nlu_search.py [--stack] > docs/figures/nlu_search_grouped.json
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from scipy.sparse import csr_matrix, hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedGroupKFold
from sklearn.naive_bayes import ComplementNB
from sklearn.svm import LinearSVC

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from gridline.nlu.embedded import load_training, training_files  # noqa: E402
from gridline.nlu.evaluate import bootstrap_interval, folds, paraphrase_groups  # noqa: E402
from gridline.nlu.text import jieba_search_words, normalise_for_classifier, pinyin_grams  # noqa: E402
from gridline.nlu.training_data import TrainingData, load_nlu_yaml  # noqa: E402

K = 5
BASELINE = "char_svm"
# The second level of --stack (one setting: each logistic regression takes minutes on a busy machine).
STACK_C = 0.3


def _chars(ngrams: tuple[int, int]) -> TfidfVectorizer:
    return TfidfVectorizer(
        analyzer="char_wb", ngram_range=ngrams, sublinear_tf=True, preprocessor=normalise_for_classifier
    )


def _tokens(tokenizer: Callable[[str], list[str]]) -> TfidfVectorizer:
    return TfidfVectorizer(
        tokenizer=tokenizer,
        token_pattern=None,
        lowercase=False,
        sublinear_tf=True,
        preprocessor=normalise_for_classifier,
    )


class Base:
    """TF-IDF blocks + one linear model; ``scores`` are its decision scores (one column per label)."""

    def __init__(self, blocks: Callable[[], list[TfidfVectorizer]], model: Callable[[], Any]) -> None:
        self.blocks, self.model = blocks(), model()

    def fit(self, texts: list[str], labels: np.ndarray) -> Base:
        self.model.fit(hstack([b.fit_transform(texts) for b in self.blocks]).tocsr(), labels)
        return self

    def scores(self, texts: list[str], classes: np.ndarray) -> np.ndarray:
        x: csr_matrix = hstack([b.transform(texts) for b in self.blocks]).tocsr()
        if isinstance(self.model, ComplementNB):  # log-likelihoods, centred per text
            raw = self.model.predict_joint_log_proba(x)
            raw = raw - raw.mean(axis=1, keepdims=True)
        else:
            raw = self.model.decision_function(x)
        return in_classes(raw, self.model.classes_, classes)


def in_classes(raw: np.ndarray, fitted: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """Scores over ``fitted`` labels as a matrix over ``classes``; a label absent from this training
    side scores -5 (below any real decision score)."""
    out = np.full((raw.shape[0], len(classes)), -5.0)
    out[:, np.searchsorted(classes, fitted)] = raw
    return out


def _svm(balanced: bool) -> Callable[[], LinearSVC]:
    return lambda: LinearSVC(C=1.0, class_weight="balanced" if balanced else None, random_state=0)


BASES: dict[str, Callable[[], Base]] = {
    # the baseline: char 1–3-gram TF-IDF + linear SVM (methods.BASELINE_METHOD)
    "char_svm": lambda: Base(lambda: [_chars((1, 3))], _svm(False)),
    # the engine's method: char 1–2 + pinyin 1–2, balanced (methods.DEFAULT_METHOD)
    "char_pinyin_svm": lambda: Base(lambda: [_chars((1, 2)), _tokens(pinyin_grams)], _svm(True)),
    "char13_balanced_svm": lambda: Base(lambda: [_chars((1, 3))], _svm(True)),
    "pinyin_svm": lambda: Base(lambda: [_tokens(pinyin_grams)], _svm(True)),
    "word_svm": lambda: Base(lambda: [_tokens(jieba_search_words)], _svm(True)),
    "char13_cnb": lambda: Base(lambda: [_chars((1, 3))], lambda: ComplementNB(alpha=0.3)),
}


def candidates() -> dict[str, dict[str, float]]:
    """Base models and weighted sums of their scores (name → {base: weight})."""
    out = {name: {name: 1.0} for name in BASES}
    pairs = [
        ("char_svm", "pinyin_svm"),
        ("char13_balanced_svm", "pinyin_svm"),
        ("char_pinyin_svm", "word_svm"),
        ("char_svm", "word_svm"),
        ("char_pinyin_svm", "char13_balanced_svm"),
        ("char_pinyin_svm", "char13_cnb"),
        ("char_svm", "char13_cnb"),
    ]
    for a, b in pairs:
        for weight in (0.25, 0.5, 1.0):
            out[f"{a} + {weight} {b}"] = {a: 1.0, b: weight}
    for weight in (0.25, 0.5):
        out[f"char13_balanced_svm + {weight} pinyin_svm + {weight} word_svm"] = {
            "char13_balanced_svm": 1.0,
            "pinyin_svm": weight,
            "word_svm": weight,
        }
    return out


def group_ids(data: TrainingData) -> np.ndarray:
    """Paraphrase group of each example (the grouping ``folds(grouped=True)`` uses)."""
    by_intent: dict[str, list[int]] = defaultdict(list)
    for index, example in enumerate(data.examples):
        by_intent[example.intent].append(index)
    ids = np.zeros(len(data.examples), dtype=int)
    number = 0
    for intent in sorted(by_intent):
        members = by_intent[intent]
        for group in paraphrase_groups([data.examples[i] for i in members]):
            ids[[members[j] for j in group]] = number
            number += 1
    return ids


def outer_assignment(data: TrainingData, seed: int) -> np.ndarray:
    position = {(ex.text, ex.intent): i for i, ex in enumerate(data.examples)}
    assignment = np.zeros(len(data.examples), dtype=int)
    for fold, (_, test) in enumerate(folds(data, K, seed=seed, grouped=True)):
        assignment[[position[(ex.text, ex.intent)] for ex in test]] = fold
    return assignment


def base_scores(
    name: str, texts: list[str], labels: np.ndarray, groups: np.ndarray, assignment: np.ndarray, cache: Path
) -> list[dict[str, np.ndarray]]:
    """Per outer fold: inner out-of-fold scores of the training side, outer scores of the test fold."""
    path = cache / f"{name}.pickle"
    if path.is_file():
        cached: list[dict[str, np.ndarray]] = pickle.loads(path.read_bytes())
        return cached
    classes = np.unique(labels)
    out = []
    for fold in range(K):
        train, test = np.where(assignment != fold)[0], np.where(assignment == fold)[0]
        train_texts = [texts[i] for i in train]
        inner = np.zeros((len(train), len(classes)))
        splitter = StratifiedGroupKFold(n_splits=K, shuffle=True, random_state=0)
        for fit_rows, score_rows in splitter.split(train_texts, labels[train], groups[train]):
            model = BASES[name]().fit([train_texts[i] for i in fit_rows], labels[train][fit_rows])
            inner[score_rows] = model.scores([train_texts[i] for i in score_rows], classes)
        model = BASES[name]().fit(train_texts, labels[train])
        out.append(
            {"train": train, "test": test, "inner": inner, "outer": model.scores([texts[i] for i in test], classes)}
        )
    path.write_bytes(pickle.dumps(out))
    return out


def macro(gold: np.ndarray, predicted: np.ndarray) -> float:
    return float(f1_score(gold, predicted, labels=np.unique(gold), average="macro", zero_division=0))


def paired(labels: np.ndarray, assignment: np.ndarray, predicted: np.ndarray, baseline: np.ndarray) -> dict[str, Any]:
    interval = bootstrap_interval(labels.tolist(), predicted.tolist(), baseline=baseline.tolist())
    per_fold = [
        round(
            macro(labels[assignment == f], predicted[assignment == f])
            - macro(labels[assignment == f], baseline[assignment == f]),
            4,
        )
        for f in range(K)
    ]
    return {"difference": interval["difference"], "per_fold": per_fold}


def stack(parts: dict[str, list[dict[str, np.ndarray]]], labels: np.ndarray, fold: int, c: float) -> np.ndarray:
    """A logistic regression over the concatenated inner out-of-fold scores, applied to the outer ones."""
    inner = np.hstack([p[fold]["inner"] for p in parts.values()])
    outer = np.hstack([p[fold]["outer"] for p in parts.values()])
    train = next(iter(parts.values()))[fold]["train"]
    model = LogisticRegression(C=c, max_iter=1000).fit(inner, labels[train])
    predicted: np.ndarray = model.predict(outer)
    return predicted


def search(name: str, data: TrainingData, cache: Path, with_stack: bool) -> dict[str, Any]:
    texts = [ex.text for ex in data.examples]
    labels = np.asarray([ex.intent for ex in data.examples])
    classes = np.unique(labels)
    groups = group_ids(data)
    assignment = outer_assignment(data, seed=0)
    cache.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    parts = {base: base_scores(base, texts, labels, groups, assignment, cache) for base in BASES}
    table = candidates()
    inner_f1: dict[str, list[float]] = {c: [] for c in table}
    outer_pred = {c: np.empty(len(labels), dtype=object) for c in table}
    for fold in range(K):
        train, test = parts[BASELINE][fold]["train"], parts[BASELINE][fold]["test"]
        for cand, weights in table.items():
            inner = sum(w * parts[b][fold]["inner"] for b, w in weights.items())
            outer = sum(w * parts[b][fold]["outer"] for b, w in weights.items())
            inner_f1[cand].append(macro(labels[train], classes[np.argmax(inner, axis=1)]))
            outer_pred[cand][test] = classes[np.argmax(outer, axis=1)]
    nested = np.empty(len(labels), dtype=object)
    picks = []
    for fold in range(K):
        pick = max(table, key=lambda c: inner_f1[c][fold])
        picks.append(pick)
        test = parts[BASELINE][fold]["test"]
        nested[test] = outer_pred[pick][test]
    baseline = outer_pred[BASELINE]
    rows = {
        cand: {
            "outer_macro_f1": round(macro(labels, outer_pred[cand]), 4),
            "inner_macro_f1_mean": round(float(np.mean(inner_f1[cand])), 4),
            "vs_baseline": paired(labels, assignment, outer_pred[cand], baseline),
        }
        for cand in sorted(table, key=lambda c: -macro(labels, outer_pred[c]))
    }
    out: dict[str, Any] = {
        "examples": len(labels),
        "labels": len(classes),
        "baseline_macro_f1": round(macro(labels, baseline), 4),
        "nested": {
            "macro_f1": round(macro(labels, nested), 4),
            "picks_per_fold": picks,
            "vs_baseline": paired(labels, assignment, nested, baseline),
        },
        "candidates": rows,
    }
    if with_stack:
        bases = ["char_svm", "char_pinyin_svm", "pinyin_svm"]
        predicted = np.empty(len(labels), dtype=object)
        for fold in range(K):
            predicted[parts[BASELINE][fold]["test"]] = stack({b: parts[b] for b in bases}, labels, fold, STACK_C)
        out["stacking"] = {
            f"LR(C={STACK_C}) over {' + '.join(bases)}": {
                "outer_macro_f1": round(macro(labels, predicted), 4),
                "vs_baseline": paired(labels, assignment, predicted, baseline),
            }
        }
    out["per_label"] = per_label(labels, outer_pred["char_pinyin_svm"])
    out["seconds"] = round(time.perf_counter() - started, 1)
    return out


def per_label(labels: np.ndarray, predicted: np.ndarray) -> dict[str, Any]:
    """F1 and support per label, and the 15 most frequent confusions (gold → predicted)."""
    classes = np.unique(labels)
    f1 = f1_score(labels, predicted, labels=classes, average=None, zero_division=0)
    support = Counter(labels.tolist())
    confusions = Counter((str(g), str(p)) for g, p in zip(labels, predicted, strict=True) if g != p)
    return {
        "f1": {
            str(c): [round(float(v), 3), support[c]]
            for c, v in sorted(zip(classes, f1, strict=True), key=lambda x: x[1])
        },
        "errors": sum(confusions.values()),
        "top_confusions": [[g, p, n] for (g, p), n in confusions.most_common(15)],
    }


def main() -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train", default=str(REPO / "config" / "nlu" / "train.yml"))
    parser.add_argument("--public", default=str(REPO / "config" / "nlu" / "public" / "chatbot_nlu_intents.yml"))
    parser.add_argument("--cache", default="/tmp/nlu-cache/search")
    parser.add_argument("--stack", action="store_true", help="also stacking (slow: logistic regressions)")
    args = parser.parse_args()
    sets = {"gridline": load_training(training_files(args.train)), "public": load_nlu_yaml(args.public)}
    return {
        "folds": f"{K} paraphrase-grouped outer folds (seed 0), {K} grouped inner folds",
        **{name: search(name, data, Path(args.cache) / name, args.stack) for name, data in sets.items()},
    }


if __name__ == "__main__":
    print(json.dumps(main(), ensure_ascii=False, indent=1))
