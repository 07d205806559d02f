"""NLU, a seventh pass: issue 14's principles once more, on the current data, nested and paired.

Same protocol as ``bench/nlu_search.py`` / ``bench/nlu_fourth.py`` (whose folds and helpers it reuses):
each data set's 5 paraphrase-grouped outer folds (seed 0); inside each outer training side 5 inner
folds, stratified and grouped by the same paraphrase groups; every candidate is scored out-of-fold on
the inner folds and, trained on the whole outer training side, on the outer test fold; selection on
the inner scores only; paired differences to ``char_svm`` (per fold and a bootstrap 95 % interval over
the sentences). Bare classifiers, no abstention rules. The TipDM Cup data is not used.

Candidates, written down before the first run (all linear SVMs, C 1, over L2-normalised TF-IDF blocks
unless said; "cp" is the engine's char 1–2 + pinyin 1–2 with balanced class weights):

* **class weights**: ``cp_unweighted`` (cp without balanced weights); ``cp_sqrt`` (weights
  ``(n_max / n_label) ** 0.5``, half-way between none and balanced).
* **shorter char n-grams**: ``c1_pinyin`` (char 1-grams only + pinyin 1–2).
* **jieba search-mode words**: ``cp_words`` (cp + search-mode words, = ``char_word_pinyin_svm``).
* **extra documents**: ``cp_labeldocs`` — each label's own name added to the training side as one more
  document of that label (public: the label name, split at + and -, e.g. 「在山里」, 「没信号」;
  Gridline: the zh-CN intent names of the console catalogue, 「供水」, 「找网格长」 …, not the reject
  class). Known at training time, never from a test fold.
* **two new feature ideas**: ``cp_skip`` (cp + character skip-bigrams, two characters with one between:
  停…水 in 停了水) and ``cp_initials`` (cp + the pinyin *initials* 1–3-grams: 停水 → t s, ``t_s``,
  which survive near-homophones and tone-free mishearing).
* **C 3** on cp + words (``cp_words_C3``), the fourth pass's most consistent lean, with words beside it.

``temperature on held-out`` is not a candidate: a temperature divides every score of a text by the
same number, so it never changes the first intent (it changes confidences, i.e. abstentions, which
the engine already fits on out-of-fold scores).

    nice -n 15 .venv/bin/python bench/nlu_seventh.py > docs/figures/nlu_seventh_grouped.json
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
import tomllib
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.svm import LinearSVC

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import nlu_search as ns  # noqa: E402

from gridline.nlu.embedded import load_training, training_files  # noqa: E402
from gridline.nlu.text import _syllable, jieba_search_words, pinyin_grams  # noqa: E402
from gridline.nlu.training_data import TrainingData, load_nlu_yaml  # noqa: E402
from gridline.nlu.types import OUT_OF_SCOPE  # noqa: E402

K = ns.K
BASELINE = ns.BASELINE
CONTEXT: dict[str, Any] = {}


def skip_bigrams(text: str) -> list[str]:
    chars = [ch for ch in text if not ch.isspace()]
    return [f"{a}_{b}" for a, b in zip(chars, chars[2:], strict=False)]


def initials(text: str) -> list[str]:
    letters = [s[0] for s in (_syllable(ch) for ch in text) if s]
    grams = list(letters)
    for n in (2, 3):
        grams += ["_".join(letters[i : i + n]) for i in range(len(letters) - n + 1)]
    return grams


def _cp() -> list[TfidfVectorizer]:
    return [ns._chars((1, 2)), ns._tokens(pinyin_grams)]


def _svm(c: float = 1.0, weight: Any = "balanced") -> Callable[[], LinearSVC]:
    return lambda: LinearSVC(C=c, class_weight=weight, random_state=0)


class SqrtWeighted(ns.Base):
    """cp with class weights (n_max / n_label) ** 0.5, set from each fit's own labels."""

    def __init__(self) -> None:
        super().__init__(_cp, _svm(weight=None))

    def fit(self, texts: list[str], labels: np.ndarray) -> SqrtWeighted:
        counts = Counter(labels.tolist())
        most = max(counts.values())
        self.model.set_params(class_weight={label: (most / n) ** 0.5 for label, n in counts.items()})
        super().fit(texts, labels)
        return self


class LabelDocs(ns.Base):
    """cp trained with each label's name as one more document of that label."""

    def __init__(self) -> None:
        super().__init__(_cp, _svm())

    def fit(self, texts: list[str], labels: np.ndarray) -> LabelDocs:
        docs = [(doc, label) for label in sorted(set(labels.tolist())) for doc in CONTEXT["label_docs"].get(label, [])]
        super().fit([*texts, *(d for d, _ in docs)], np.asarray([*labels.tolist(), *(lab for _, lab in docs)]))
        return self


SEVENTH: dict[str, Callable[[], ns.Base]] = {
    "cp_unweighted": lambda: ns.Base(_cp, _svm(weight=None)),
    "cp_sqrt": lambda: SqrtWeighted(),
    "c1_pinyin": lambda: ns.Base(lambda: [ns._chars((1, 1)), ns._tokens(pinyin_grams)], _svm()),
    "cp_words": lambda: ns.Base(lambda: [*_cp(), ns._tokens(jieba_search_words)], _svm()),
    "cp_words_C3": lambda: ns.Base(lambda: [*_cp(), ns._tokens(jieba_search_words)], _svm(c=3.0)),
    "cp_labeldocs": lambda: LabelDocs(),
    "cp_skip": lambda: ns.Base(lambda: [*_cp(), ns._tokens(skip_bigrams)], _svm()),
    "cp_initials": lambda: ns.Base(lambda: [*_cp(), ns._tokens(initials)], _svm()),
}


def label_docs(name: str, data: TrainingData) -> dict[str, list[str]]:
    """Each label's name as training documents (see the module docstring)."""
    if name == "public":
        return {label: [p for p in re.split(r"[+\-（）()]", label) if p] for label in data.intents}
    catalogue = tomllib.loads((REPO / "gridline" / "i18n" / "console.toml").read_text(encoding="utf-8"))
    names = catalogue["console"]["intent"]
    return {label: [names[label]["zh-CN"]] for label in data.intents if label in names and label != OUT_OF_SCOPE}


def run(name: str, data: TrainingData, cache: Path, seed: int = 0, only: list[str] | None = None) -> dict[str, Any]:
    texts = [ex.text for ex in data.examples]
    labels = np.asarray([ex.intent for ex in data.examples])
    classes = np.unique(labels)
    groups = ns.group_ids(data)
    assignment = ns.outer_assignment(data, seed=seed)
    cache.mkdir(parents=True, exist_ok=True)
    CONTEXT["label_docs"] = label_docs(name, data)
    ns.BASES.update(SEVENTH)
    started = time.perf_counter()
    bases = ["char_svm", "char_pinyin_svm", *(b for b in SEVENTH if not only or b in only)]
    parts = {}
    for base in bases:
        t0 = time.perf_counter()
        parts[base] = ns.base_scores(base, texts, labels, groups, assignment, cache)
        print(f"{name} {base}: {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
    inner_f1: dict[str, list[float]] = {b: [] for b in bases}
    outer_pred = {b: np.empty(len(labels), dtype=object) for b in bases}
    for fold in range(K):
        train, test = parts[BASELINE][fold]["train"], parts[BASELINE][fold]["test"]
        for base in bases:
            inner = classes[np.argmax(parts[base][fold]["inner"], axis=1)]
            inner_f1[base].append(ns.macro(labels[train], inner))
            outer_pred[base][test] = classes[np.argmax(parts[base][fold]["outer"], axis=1)]
    baseline = outer_pred[BASELINE]
    rows = {
        b: {
            "outer_macro_f1": round(ns.macro(labels, outer_pred[b]), 4),
            "inner_macro_f1_mean": round(float(np.mean(inner_f1[b])), 4),
            "vs_baseline": ns.paired(labels, assignment, outer_pred[b], baseline),
            "vs_engine_method": ns.paired(labels, assignment, outer_pred[b], outer_pred["char_pinyin_svm"]),
        }
        for b in sorted(bases, key=lambda b: -ns.macro(labels, outer_pred[b]))
    }
    return {
        "examples": len(labels),
        "labels": len(classes),
        "candidates": rows,
        "seconds": round(time.perf_counter() - started, 1),
        "_inner": inner_f1,
        "_outer": outer_pred,
        "_labels": labels,
        "_assignment": assignment,
        "_test": [parts[BASELINE][f]["test"] for f in range(K)],
    }


def nested(result: dict[str, Any], names: list[str], picks: list[str] | None = None) -> dict[str, Any]:
    labels, assignment = result["_labels"], result["_assignment"]
    chosen = picks or [max(names, key=lambda c: result["_inner"][c][f]) for f in range(K)]
    predicted = np.empty(len(labels), dtype=object)
    for f in range(K):
        predicted[result["_test"][f]] = result["_outer"][chosen[f]][result["_test"][f]]
    return {
        "macro_f1": round(ns.macro(labels, predicted), 4),
        "picks_per_fold": chosen,
        "vs_baseline": ns.paired(labels, assignment, predicted, result["_outer"][BASELINE]),
        "vs_engine_method": ns.paired(labels, assignment, predicted, result["_outer"]["char_pinyin_svm"]),
    }


def main() -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train", default=str(REPO / "config" / "nlu" / "train.yml"))
    parser.add_argument("--public", default=str(REPO / "config" / "nlu" / "public" / "chatbot_nlu_intents.yml"))
    parser.add_argument(
        "--cache", default="/tmp/nlu-cache/seventh", help="per data file hash: a changed file is rescored"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the outer folds (a robustness check)")
    parser.add_argument("--only", nargs="*", default=[], help="candidates to run besides the two references")
    args = parser.parse_args()
    loaders = {
        "gridline": lambda: load_training(training_files(args.train)),
        "public": lambda: load_nlu_yaml(args.public),
    }
    load_before = os.getloadavg()
    results = {}
    for name, load in loaders.items():
        data = load()
        results[name] = run(
            name,
            data,
            Path(args.cache) / f"seed{args.seed}" / f"{name}-{data.fingerprint()[:12]}",
            args.seed,
            args.only,
        )
    every = ["char_svm", "char_pinyin_svm", *(b for b in SEVENTH if not args.only or b in args.only)]
    out: dict[str, Any] = {
        "folds": f"{K} paraphrase-grouped outer folds (seed {args.seed}), {K} grouped inner folds",
        "command": " ".join(["nice -n 15 .venv/bin/python bench/nlu_seventh.py", *sys.argv[1:]]),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "load_average_before_after": [round(load_before[0], 1), round(os.getloadavg()[0], 1)],
        "note": "bare classifiers; scores are deterministic and cached per data file in --cache",
    }
    for name, result in results.items():
        out[name] = {k: v for k, v in result.items() if not k.startswith("_")}
        out[name]["nested_per_set"] = nested(result, every)
    picks = [max(every, key=lambda c: float(np.mean([r["_inner"][c][f] for r in results.values()]))) for f in range(K)]
    out["nested_across_sets"] = {name: nested(result, every, picks) for name, result in results.items()}
    return out


if __name__ == "__main__":
    print(json.dumps(main(), ensure_ascii=False, indent=1))
