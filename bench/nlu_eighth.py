"""NLU, an eighth pass: what the seventh pass's winner (label names as documents) leaves on the table.

Same protocol as ``bench/nlu_seventh.py`` (whose folds, helpers and label documents it reuses): each
data set's 5 paraphrase-grouped outer folds (seed 0); inside each outer training side 5 inner folds,
stratified and grouped by the same paraphrase groups; every candidate scored out-of-fold on the inner
folds and, trained on the whole outer training side, on the outer test fold; selection on the inner
scores only; paired differences (per fold and a bootstrap 95 % interval over the sentences). Bare
classifiers, no abstention rules. The TipDM Cup data is not used.

The reference is ``ld``: the engine's method as shipped since the seventh pass — char 1–2 + pinyin
1–2 TF-IDF, balanced class weights, linear SVM C 1, each label's name as one more document. Every
candidate below changes one thing of it; written down before the first run:

* ``ld_sqrt`` — class weights ``(n_max / n_label) ** 0.5`` instead of balanced (the seventh pass's
  one Gridline interval above 0, never combined with the label names).
* ``ld_x2`` / ``ld_x4`` — the label-name documents weighted 2 / 4 (``sample_weight``): a label's name
  is what the label means, one document among dozens of paraphrases of it.
* ``ld_C3`` — C 3 (the fourth pass's most consistent small lean).
* ``ld_lr`` — multinomial logistic regression (C 10) on the same features instead of the SVM (the
  third pass's 0.694 on the public set, before the label names).
* ``ld_words`` — + jieba search-mode words.
* ``ld_edges`` — + where a pinyin syllable stands: the first and the last syllable marked (``^_you``,
  ``a_$``). Characters already get it from ``char_wb``'s padding; on replies of 2–6 characters
  (「有啊」 / 「没有啊」) the place of a syllable carries part of the meaning.
* ``ld_proto_0.5`` / ``ld_proto_1`` — the SVM's scores plus 0.5 / 1 × each label's *nearest
  example* (the largest cosine similarity of the text to a training document of that label, on the
  same TF-IDF): a memory of short replies beside the linear model.

    nice -n 15 .venv/bin/python bench/nlu_eighth.py > docs/figures/nlu_eighth_grouped.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from scipy.sparse import csr_matrix, hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import nlu_search as ns  # noqa: E402
import nlu_seventh as s7  # noqa: E402

from gridline.nlu.embedded import load_training, training_files  # noqa: E402
from gridline.nlu.text import jieba_search_words, pinyin_grams  # noqa: E402
from gridline.nlu.training_data import TrainingData, load_nlu_yaml  # noqa: E402

K = ns.K


def edge_pinyin(text: str) -> list[str]:
    grams = pinyin_grams(text)
    syllables = [g for g in grams if "_" not in g]
    if syllables:
        grams += [f"^_{syllables[0]}", f"{syllables[-1]}_$"]
    return grams


class Reference(ns.Base):
    """cp + label-name documents, with a weight for those documents and a choice of linear model."""

    def __init__(
        self,
        blocks: Callable[[], list[TfidfVectorizer]] = s7._cp,
        model: Callable[[], Any] = s7._svm(),
        doc_weight: float = 1.0,
        weights: str = "balanced",
    ) -> None:
        super().__init__(blocks, model)
        self.doc_weight, self.weights = doc_weight, weights

    def fit(self, texts: list[str], labels: np.ndarray) -> Reference:
        docs = [(d, lab) for lab in sorted(set(labels.tolist())) for d in s7.CONTEXT["label_docs"].get(lab, [])]
        all_texts = [*texts, *(d for d, _ in docs)]
        all_labels = np.asarray([*labels.tolist(), *(lab for _, lab in docs)])
        sample_weight = np.asarray([1.0] * len(texts) + [self.doc_weight] * len(docs))
        if self.weights == "sqrt":
            counts = Counter(all_labels.tolist())
            most = max(counts.values())
            self.model.set_params(class_weight={lab: (most / n) ** 0.5 for lab, n in counts.items()})
        x = hstack([b.fit_transform(all_texts) for b in self.blocks]).tocsr()
        self.model.fit(x, all_labels, sample_weight=sample_weight)
        self.memory, self.memory_labels = x, all_labels
        return self


class Prototype(Reference):
    """The reference's scores + ``weight`` × each label's largest cosine similarity to the text."""

    def __init__(self, weight: float) -> None:
        super().__init__()
        self.weight = weight

    def scores(self, texts: list[str], classes: np.ndarray) -> np.ndarray:
        svm = super().scores(texts, classes)
        x: csr_matrix = hstack([b.transform(texts) for b in self.blocks]).tocsr()
        # Each block is L2-normalised, so the joint vector has norm sqrt(blocks): divide to get a cosine.
        sims = (x @ self.memory.T).toarray() / len(self.blocks)
        nearest = np.zeros_like(svm)
        for j, label in enumerate(classes):
            rows = self.memory_labels == label
            if rows.any():
                nearest[:, j] = sims[:, rows].max(axis=1)
        return svm + self.weight * nearest


EIGHTH: dict[str, Callable[[], ns.Base]] = {
    "ld": lambda: Reference(),
    "ld_sqrt": lambda: Reference(model=s7._svm(weight=None), weights="sqrt"),
    "ld_x2": lambda: Reference(doc_weight=2.0),
    "ld_x4": lambda: Reference(doc_weight=4.0),
    "ld_C3": lambda: Reference(model=s7._svm(c=3.0)),
    "ld_lr": lambda: Reference(
        model=lambda: LogisticRegression(C=10.0, max_iter=2000, class_weight="balanced", random_state=0)
    ),
    "ld_words": lambda: Reference(blocks=lambda: [*s7._cp(), ns._tokens(jieba_search_words)]),
    "ld_edges": lambda: Reference(blocks=lambda: [ns._chars((1, 2)), ns._tokens(edge_pinyin)]),
    "ld_proto_0.5": lambda: Prototype(0.5),
    "ld_proto_1": lambda: Prototype(1.0),
}


def main() -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train", default=str(REPO / "config" / "nlu" / "train.yml"))
    parser.add_argument("--public", default=str(REPO / "config" / "nlu" / "public" / "chatbot_nlu_intents.yml"))
    parser.add_argument("--cache", default="/tmp/nlu-cache/eighth")
    parser.add_argument("--seed", type=int, default=0, help="seed of the outer folds (a robustness check)")
    parser.add_argument("--only", nargs="*", default=[], help="candidates to run besides the references")
    args = parser.parse_args()
    # nlu_seventh.run scores char_svm, char_pinyin_svm and its own candidates: make them ours.
    s7.SEVENTH.clear()
    s7.SEVENTH.update({k: v for k, v in EIGHTH.items() if k == "ld" or not args.only or k in args.only})
    loaders: dict[str, Callable[[], TrainingData]] = {
        "gridline": lambda: load_training(training_files(args.train)),
        "public": lambda: load_nlu_yaml(args.public),
    }
    load_before = os.getloadavg()
    results = {}
    for name, load in loaders.items():
        data = load()
        cache = Path(args.cache) / f"seed{args.seed}" / f"{name}-{data.fingerprint()[:12]}"
        results[name] = s7.run(name, data, cache, args.seed)
    every = ["char_svm", "char_pinyin_svm", *s7.SEVENTH]
    out: dict[str, Any] = {
        "folds": f"{K} paraphrase-grouped outer folds (seed {args.seed}), {K} grouped inner folds",
        "command": " ".join(["nice -n 15 .venv/bin/python bench/nlu_eighth.py", *sys.argv[1:]]),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "load_average_before_after": [round(load_before[0], 1), round(os.getloadavg()[0], 1)],
        "note": "bare classifiers; vs_engine_method below is against char_pinyin_svm without label names; "
        "vs_ld is against the engine's method as shipped (ld)",
    }
    for name, result in results.items():
        out[name] = {k: v for k, v in result.items() if not k.startswith("_")}
        for cand, row in out[name]["candidates"].items():
            row["vs_ld"] = ns.paired(
                result["_labels"], result["_assignment"], result["_outer"][cand], result["_outer"]["ld"]
            )
        out[name]["nested_per_set"] = s7.nested(result, every)
    picks = [max(every, key=lambda c: float(np.mean([r["_inner"][c][f] for r in results.values()]))) for f in range(K)]
    out["nested_across_sets"] = {}
    for name, result in results.items():
        row = s7.nested(result, every, picks)
        predicted = np.empty(len(result["_labels"]), dtype=object)
        for f in range(K):
            predicted[result["_test"][f]] = result["_outer"][picks[f]][result["_test"][f]]
        row["vs_ld"] = ns.paired(result["_labels"], result["_assignment"], predicted, result["_outer"]["ld"])
        out["nested_across_sets"][name] = row
    return out


if __name__ == "__main__":
    print(json.dumps(main(), ensure_ascii=False, indent=1))
