"""NLU, a fourth pass: the ideas the third pass did not try, on the same nested grouped folds.

Same protocol as ``bench/nlu_search.py`` (whose folds, caches and helpers it reuses): each data set's 5
paraphrase-grouped outer folds (seed 0); inside each outer training side 5 inner folds, stratified and
grouped by the same paraphrase groups; every base model is scored out-of-fold on the inner folds and,
trained on the whole outer training side, on the outer test fold. Every parameter below is chosen on
the *inner* scores only (nested), and every difference to the baseline (``char_svm``) is paired (per
fold and a bootstrap 95 % interval over the sentences). Bare classifiers, no abstention rules.

Ideas (base models in ``FOURTH``, candidates in ``candidates``):

* **C tuned per data set** on the inner folds: char 1–2 + pinyin 1–2, balanced, C ∈ {0.3, 1, 3}.
* **NB-SVM** (Wang & Manning 2012): binary char 1–2 + pinyin 1–2 features scaled by each label's
  log-count ratio, one binary SVM per label, weights interpolated towards their mean (β 0.25, as in
  the paper, or β 1: no interpolation).
  **Calibrated probability averaging**: a temperature per model fitted on the inner out-of-fold
  scores, then a weighted mean of the two softmax probabilities (SVM weight 0.5 / 0.75).
* **Label hierarchy**: a family classifier (families written down from the label names, ``FAMILIES``)
  whose score is added to each label of the family (weight 0.5 / 1), and strict two-stage
  classification (the best family first, then the best label inside it).
* **Character embeddings trained locally**: PPMI + SVD (64 dimensions) of character co-occurrence
  (window ±2, 1/distance weights, context smoothing 0.75) over the training side's own texts and the
  unlabelled pool; a text's vector is the mean of its characters' vectors, appended to the TF-IDF
  blocks (weight 0.5 / 1). The same for pinyin syllables.
* **Self-training**: the unlabelled pool is labelled by a calibrated char + pinyin SVM trained on the
  training side; pool texts with a probability ≥ 0.6 / 0.9 join the training side for the final fit.
  Pools (on disk, nothing downloaded), built inside each fit from that fit's own texts: Gridline — a
  speech-like variant (30 % homophones, seed 7) of every training-side text, labels dropped; public —
  the same plus the 183 texts of chatbot-nlu's intent file that are not in the evaluation set
  (``config/nlu/public/chatbot_nlu_unlabelled.txt``). **Speech augmentation** (labels kept) is the
  supervised upper bound of the variant pool.

Selection: per data set nested over each idea's parameters and over all candidates; and **across
the sets** — in outer fold *f* one candidate for both sets, the one with the best mean inner macro-F1
over the sets — so the method is never chosen per set.

    nice -n 15 .venv/bin/python bench/nlu_fourth.py > docs/figures/nlu_fourth_grouped.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.sparse import csr_matrix, hstack
from scipy.special import log_softmax, softmax
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.svm import LinearSVC

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import nlu_search as ns  # noqa: E402

from gridline.nlu.embedded import load_training, training_files  # noqa: E402
from gridline.nlu.speech import speech_variant  # noqa: E402
from gridline.nlu.text import normalise_for_classifier, pinyin_grams  # noqa: E402
from gridline.nlu.training_data import TrainingData, load_nlu_yaml  # noqa: E402

K = ns.K
BASELINE = ns.BASELINE

# Families written down from the label names (not from confusions) before any run of this script.
FAMILIES: dict[str, dict[str, list[str]]] = {
    "gridline": {
        "utilities": ["water_supply", "power_supply", "gas_heating", "drainage"],
        "building": ["property_management", "elevator", "illegal_construction"],
        "public_space": ["road_facility", "sanitation", "noise", "neighbor_dispute"],
        "safety": ["safety_hazard", "public_order", "emergency"],
        "people": ["elderly_care", "policy_inquiry"],
        "conversation": ["find_leader", "check_status", "greet", "thanks", "affirm", "deny", "smalltalk"],
        "reject": ["nlu_fallback"],
    },
    "public": {
        "paid": ["已还-未知成功（打了）", "非今天已还", "存了-待扣", "存了-没扣", "显示成功"],
        "will_pay": ["今天会还", "可信日期", "通融", "还没还"],
        "cannot_pay": ["没钱还", "生病", "要退车", "不管了", "车辆有问题"],
        "ack": ["接受", "没有问题", "不知道", "详细问题", "哪里的", "听得到吗"],
        "how_to_pay": [
            "怎么还+存哪里",
            "线下还款",
            "还差多少",
            "哪期月租",
            "账户对",
            "客服电话",
            "没收到",
            "不会弄",
            "影响征信",
        ],
        "unavailable": [
            "在忙",
            "在异地",
            "在山里+没信号",
            "机主不在",
            "非目标",
            "另记电话",
            "别人还+别人用",
            "自己用",
            "暂停",
        ],
        "offtopic": ["机器人话题", "套近乎", "骚扰诈骗"],
    },
}

POOL_FILE = REPO / "config" / "nlu" / "public" / "chatbot_nlu_unlabelled.txt"
SPEECH_RATE, SPEECH_SEED = 0.3, 7

# Set per data set by ``run`` before the bases are fitted (bases are built without arguments).
CONTEXT: dict[str, Any] = {}


def _binary(tokenizer: Callable[[str], list[str]] | None, ngrams: tuple[int, int] = (1, 1)) -> CountVectorizer:
    if tokenizer is None:
        return CountVectorizer(
            analyzer="char_wb", ngram_range=ngrams, binary=True, preprocessor=normalise_for_classifier
        )
    return CountVectorizer(
        tokenizer=tokenizer, token_pattern=None, lowercase=False, binary=True, preprocessor=normalise_for_classifier
    )


def _char_pinyin() -> list[Any]:
    return [ns._chars((1, 2)), ns._tokens(pinyin_grams)]


def _cp_svm(c: float) -> Callable[[], ns.Base]:
    return lambda: ns.Base(_char_pinyin, lambda: LinearSVC(C=c, class_weight="balanced", random_state=0))


class NBSVM:
    """Wang & Manning's NB-SVM, one-vs-rest over binary char 1–2 + pinyin 1–2 features."""

    def __init__(self, c: float = 1.0, beta: float = 0.25, alpha: float = 1.0) -> None:
        self.c, self.beta, self.alpha = c, beta, alpha

    def _x(self, texts: list[str], fit: bool) -> csr_matrix:
        if fit:
            self.blocks = [_binary(None, (1, 2)), _binary(pinyin_grams)]
            return hstack([b.fit_transform(texts) for b in self.blocks]).tocsr().astype(float)
        return hstack([b.transform(texts) for b in self.blocks]).tocsr().astype(float)

    def fit(self, texts: list[str], labels: np.ndarray) -> NBSVM:
        x = self._x(texts, fit=True)
        self.classes_ = np.unique(labels)
        weights, biases = [], []
        for label in self.classes_:
            y = (labels == label).astype(int)
            p = self.alpha + np.asarray(x[y == 1].sum(axis=0)).ravel()
            q = self.alpha + np.asarray(x[y == 0].sum(axis=0)).ravel()
            r = np.log(p / p.sum()) - np.log(q / q.sum())
            svm = LinearSVC(C=self.c, class_weight="balanced", random_state=0).fit(x.multiply(r).tocsr(), y)
            w = svm.coef_.ravel()
            w = (1 - self.beta) * np.abs(w).mean() + self.beta * w
            weights.append(w * r)  # the model is linear in the binary features
            biases.append(svm.intercept_[0])
        self.w, self.b = np.vstack(weights).T, np.asarray(biases)
        return self

    def scores(self, texts: list[str], classes: np.ndarray) -> np.ndarray:
        return ns.in_classes(self._x(texts, fit=False) @ self.w + self.b, self.classes_, classes)


class FamilySVM:
    """A char + pinyin SVM over label families; each label gets its family's score."""

    def fit(self, texts: list[str], labels: np.ndarray) -> FamilySVM:
        self.family_of = {label: fam for fam, members in CONTEXT["families"].items() for label in members}
        self.base = _cp_svm(1.0)().fit(texts, np.asarray([self.family_of[label] for label in labels]))
        return self

    def scores(self, texts: list[str], classes: np.ndarray) -> np.ndarray:
        families = np.unique(list(self.family_of.values()))
        fam_scores = self.base.scores(texts, families)
        return fam_scores[:, np.searchsorted(families, [self.family_of[c] for c in classes])]


class Embedding:
    """PPMI + SVD embeddings of units (characters or pinyin syllables) from a list of texts."""

    def __init__(self, units: Callable[[str], list[str]], dims: int = 64, window: int = 2) -> None:
        self.units, self.dims, self.window = units, dims, window

    def fit(self, texts: Sequence[str]) -> Embedding:
        sequences = [self.units(t) for t in texts]
        vocab = sorted({u for s in sequences for u in s})
        self.index = {u: i for i, u in enumerate(vocab)}
        n = len(vocab)
        counts = np.zeros((n, n))
        for seq in sequences:
            ids = [self.index[u] for u in seq]
            for i, a in enumerate(ids):
                for d in range(1, self.window + 1):
                    if i + d < len(ids):
                        counts[a, ids[i + d]] += 1.0 / d
                        counts[ids[i + d], a] += 1.0 / d
        total = counts.sum()
        row = counts.sum(axis=1, keepdims=True)
        context = counts.sum(axis=0, keepdims=True) ** 0.75
        with np.errstate(divide="ignore", invalid="ignore"):
            pmi = np.log((counts * context.sum()) / (row * context + 1e-12) + 1e-12)
        ppmi = np.where(counts > 0, np.maximum(pmi, 0.0), 0.0)
        u, s, _ = np.linalg.svd(ppmi, full_matrices=False)
        k = min(self.dims, len(s))
        vectors = u[:, :k] * np.sqrt(s[:k])
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        self.vectors = np.where(norms > 0, vectors / np.maximum(norms, 1e-12), 0.0)
        del total
        return self

    def transform(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.vectors.shape[1]))
        for row, text in enumerate(texts):
            ids = [self.index[u] for u in self.units(text) if u in self.index]
            if ids:
                v = self.vectors[ids].mean(axis=0)
                out[row] = v / max(float(np.linalg.norm(v)), 1e-12)
        return out


def _chars_of(text: str) -> list[str]:
    return [ch for ch in normalise_for_classifier(text) if not ch.isspace()]


def _syllables_of(text: str) -> list[str]:
    return [g for g in pinyin_grams(normalise_for_classifier(text)) if "_" not in g]


class EmbeddingSVM:
    """char 1–2 + pinyin 1–2 TF-IDF, plus locally trained char and syllable embeddings (weight ``gamma``)."""

    def __init__(self, gamma: float) -> None:
        self.gamma = gamma

    def _x(self, texts: list[str], fit: bool) -> csr_matrix:
        sparse = [b.fit_transform(texts) if fit else b.transform(texts) for b in self.blocks]
        dense = [csr_matrix(self.gamma * e.transform(texts)) for e in self.embeddings]
        return hstack(sparse + dense).tocsr()

    def fit(self, texts: list[str], labels: np.ndarray) -> EmbeddingSVM:
        corpus = list(texts) + unlabelled_pool(texts)
        self.embeddings = [Embedding(_chars_of).fit(corpus), Embedding(_syllables_of).fit(corpus)]
        self.blocks = _char_pinyin()
        self.model = LinearSVC(C=1.0, class_weight="balanced", random_state=0).fit(self._x(texts, True), labels)
        return self

    def scores(self, texts: list[str], classes: np.ndarray) -> np.ndarray:
        return ns.in_classes(self.model.decision_function(self._x(texts, False)), self.model.classes_, classes)


def _temperature(scores: np.ndarray, gold: np.ndarray) -> float:
    def nll(log_t: float) -> float:
        logp = log_softmax(scores / np.exp(log_t), axis=1)
        return float(-logp[np.arange(len(gold)), gold].mean())

    return float(np.exp(minimize_scalar(nll, bounds=(np.log(0.01), np.log(10.0)), method="bounded").x))


class SelfTrained:
    """char + pinyin SVM retrained on the training side plus the confidently pseudo-labelled pool."""

    def __init__(self, threshold: float) -> None:
        self.threshold = threshold

    def fit(self, texts: list[str], labels: np.ndarray) -> SelfTrained:
        pool = unlabelled_pool(texts)
        first = _cp_svm(1.0)().fit(texts, labels)
        classes = np.unique(labels)
        # temperature from out-of-fold scores of the training side (as the engine calibrates)
        x = hstack([b.transform(texts) for b in first.blocks]).tocsr()
        cv = StratifiedKFold(
            n_splits=min(5, int(np.bincount(np.searchsorted(classes, labels)).min())), shuffle=True, random_state=0
        )
        oof = cross_val_predict(
            LinearSVC(C=1.0, class_weight="balanced", random_state=0), x, labels, cv=cv, method="decision_function"
        )
        t = _temperature(oof, np.searchsorted(classes, labels))
        proba = softmax(first.scores(pool, classes) / t, axis=1)
        keep = proba.max(axis=1) >= self.threshold
        self.added = int(keep.sum())
        extra_texts = [p for p, k in zip(pool, keep, strict=True) if k]
        extra_labels = classes[proba.argmax(axis=1)][keep]
        self.final = _cp_svm(1.0)().fit(list(texts) + extra_texts, np.concatenate([labels, extra_labels]))
        return self

    def scores(self, texts: list[str], classes: np.ndarray) -> np.ndarray:
        return self.final.scores(texts, classes)


class SpeechAugmented:
    """char + pinyin SVM trained on the training side plus a labelled speech-like variant of each text."""

    def fit(self, texts: list[str], labels: np.ndarray) -> SpeechAugmented:
        variants = [variant(t) for t in texts]
        self.final = _cp_svm(1.0)().fit(list(texts) + variants, np.concatenate([labels, labels]))
        return self

    def scores(self, texts: list[str], classes: np.ndarray) -> np.ndarray:
        return self.final.scores(texts, classes)


FOURTH: dict[str, Callable[[], Any]] = {
    "cp_svm_C0.3": _cp_svm(0.3),
    "cp_svm_C3": _cp_svm(3.0),
    "nbsvm": lambda: NBSVM(),
    "nbsvm_b1": lambda: NBSVM(beta=1.0),
    "family_svm": lambda: FamilySVM(),
    "emb_svm_0.5": lambda: EmbeddingSVM(0.5),
    "emb_svm_1": lambda: EmbeddingSVM(1.0),
    "self_train_0.6": lambda: SelfTrained(0.6),
    "self_train_0.9": lambda: SelfTrained(0.9),
    "speech_aug": lambda: SpeechAugmented(),
}


# A candidate: ("sum", {base: weight}) — argmax of a weighted score sum;
# ("proba", {base: weight}) — argmax of a weighted mean of temperature-scaled softmaxes;
# ("two_stage", {}) — best family by family_svm, then the best char_pinyin_svm label inside it.
Candidate = tuple[str, dict[str, float]]

IDEAS: dict[str, list[str]] = {
    "C tuned (char+pinyin, balanced)": ["cp C0.3", "cp C1", "cp C3"],
    "NB-SVM alone": ["nbsvm", "nbsvm b1"],
    "calibrated proba average SVM + NB-SVM": [
        "proba 0.5 cp + 0.5 nbsvm",
        "proba 0.75 cp + 0.25 nbsvm",
        "proba 0.5 cp + 0.5 nbsvm b1",
        "proba 0.75 cp + 0.25 nbsvm b1",
    ],
    "label hierarchy: + family score": ["cp + 0.5 family", "cp + 1 family"],
    "two-stage (family, then label)": ["two_stage"],
    "local char/pinyin embeddings": ["emb 0.5", "emb 1"],
    "self-training": ["self 0.6", "self 0.9"],
    "speech augmentation (labelled)": ["speech_aug"],
}


def candidates() -> dict[str, Candidate]:
    return {
        "char_svm": ("sum", {"char_svm": 1.0}),
        "cp C1": ("sum", {"char_pinyin_svm": 1.0}),
        "cp C0.3": ("sum", {"cp_svm_C0.3": 1.0}),
        "cp C3": ("sum", {"cp_svm_C3": 1.0}),
        "nbsvm": ("sum", {"nbsvm": 1.0}),
        "proba 0.5 cp + 0.5 nbsvm": ("proba", {"char_pinyin_svm": 0.5, "nbsvm": 0.5}),
        "proba 0.75 cp + 0.25 nbsvm": ("proba", {"char_pinyin_svm": 0.75, "nbsvm": 0.25}),
        "nbsvm b1": ("sum", {"nbsvm_b1": 1.0}),
        "proba 0.5 cp + 0.5 nbsvm b1": ("proba", {"char_pinyin_svm": 0.5, "nbsvm_b1": 0.5}),
        "proba 0.75 cp + 0.25 nbsvm b1": ("proba", {"char_pinyin_svm": 0.75, "nbsvm_b1": 0.25}),
        "cp + 0.5 family": ("sum", {"char_pinyin_svm": 1.0, "family_svm": 0.5}),
        "cp + 1 family": ("sum", {"char_pinyin_svm": 1.0, "family_svm": 1.0}),
        "two_stage": ("two_stage", {}),
        "emb 0.5": ("sum", {"emb_svm_0.5": 1.0}),
        "emb 1": ("sum", {"emb_svm_1": 1.0}),
        "self 0.6": ("sum", {"self_train_0.6": 1.0}),
        "self 0.9": ("sum", {"self_train_0.9": 1.0}),
        "speech_aug": ("sum", {"speech_aug": 1.0}),
    }


def combine(
    cand: Candidate, parts: dict[str, list[dict[str, np.ndarray]]], fold: int, labels: np.ndarray, classes: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(inner predictions, outer predictions) of one candidate in one outer fold."""
    kind, weights = cand
    train = parts[BASELINE][fold]["train"]
    inner: Any
    outer: Any
    if kind == "sum":
        inner = sum(w * parts[b][fold]["inner"] for b, w in weights.items())
        outer = sum(w * parts[b][fold]["outer"] for b, w in weights.items())
    elif kind == "proba":
        gold = np.searchsorted(classes, labels[train])
        inner, outer = 0.0, 0.0
        for b, w in weights.items():
            t = _temperature(parts[b][fold]["inner"], gold)  # fitted on the inner out-of-fold scores only
            inner = inner + w * softmax(parts[b][fold]["inner"] / t, axis=1)
            outer = outer + w * softmax(parts[b][fold]["outer"] / t, axis=1)
    else:  # two_stage: family scores are constant within a family; the best family's labels get +1000

        def staged(which: str) -> np.ndarray:
            fam = parts["family_svm"][fold][which]
            best = fam == fam.max(axis=1, keepdims=True)
            return parts["char_pinyin_svm"][fold][which] + 1000.0 * best

        inner, outer = staged("inner"), staged("outer")
    return classes[np.argmax(inner, axis=1)], classes[np.argmax(outer, axis=1)]


_variants: dict[str, str] = {}


def variant(text: str) -> str:
    found = _variants.get(text)
    if found is None:
        found = _variants[text] = speech_variant(text, rate=SPEECH_RATE, seed=SPEECH_SEED)
    return found


def unlabelled_pool(texts: Sequence[str]) -> list[str]:
    """The pool a fit on ``texts`` (a training side) may use: variants of *those* texts (never of a
    test fold's) and the data set's external unlabelled texts."""
    seen = set(texts)
    return sorted({p for p in [*(variant(t) for t in texts), *CONTEXT["external"]] if p not in seen})


def external_pool(name: str, data: TrainingData) -> list[str]:
    if name != "public":
        return []
    texts = {ex.text for ex in data.examples}
    lines = [line.strip() for line in POOL_FILE.read_text(encoding="utf-8").splitlines()]
    return sorted({t for t in lines if t and t not in texts})


def usable(skip: Sequence[str]) -> dict[str, Candidate]:
    """The candidates whose base models are all computed (``--skip`` leaves some out)."""
    needs = {"two_stage": {"family_svm", "char_pinyin_svm"}}
    return {
        name: spec for name, spec in candidates().items() if not (set(spec[1]) | needs.get(name, set())) & set(skip)
    }


def run(name: str, data: TrainingData, cache: Path, seed: int = 0, skip: Sequence[str] = ()) -> dict[str, Any]:
    texts = [ex.text for ex in data.examples]
    labels = np.asarray([ex.intent for ex in data.examples])
    classes = np.unique(labels)
    groups = ns.group_ids(data)
    assignment = ns.outer_assignment(data, seed=seed)
    cache.mkdir(parents=True, exist_ok=True)
    CONTEXT.update(families=FAMILIES[name], external=external_pool(name, data))
    covered = {label for members in FAMILIES[name].values() for label in members}
    assert covered == set(classes.tolist()), sorted(set(classes.tolist()) ^ covered)
    ns.BASES.update(FOURTH)
    started = time.perf_counter()
    needed = [b for b in ["char_svm", "char_pinyin_svm", *FOURTH] if b not in skip]
    parts = {}
    for base in needed:
        t0 = time.perf_counter()
        parts[base] = ns.base_scores(base, texts, labels, groups, assignment, cache)
        print(f"{name} {base}: {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
    table = usable(skip)
    inner_f1: dict[str, list[float]] = {c: [] for c in table}
    outer_pred = {c: np.empty(len(labels), dtype=object) for c in table}
    for fold in range(K):
        train, test = parts[BASELINE][fold]["train"], parts[BASELINE][fold]["test"]
        for cand, spec in table.items():
            inner, outer = combine(spec, parts, fold, labels, classes)
            inner_f1[cand].append(ns.macro(labels[train], inner))
            outer_pred[cand][test] = outer
    baseline = outer_pred[BASELINE]
    rows = {
        cand: {
            "outer_macro_f1": round(ns.macro(labels, outer_pred[cand]), 4),
            "inner_macro_f1_mean": round(float(np.mean(inner_f1[cand])), 4),
            "vs_baseline": ns.paired(labels, assignment, outer_pred[cand], baseline),
        }
        for cand in sorted(table, key=lambda c: -ns.macro(labels, outer_pred[c]))
    }
    return {
        "examples": len(labels),
        "labels": len(classes),
        "external_unlabelled": len(CONTEXT["external"]),
        "baseline_macro_f1": round(ns.macro(labels, baseline), 4),
        "candidates": rows,
        "seconds": round(time.perf_counter() - started, 1),
        "_inner": inner_f1,
        "_outer": outer_pred,
        "_labels": labels,
        "_assignment": assignment,
        "_test": [parts[BASELINE][f]["test"] for f in range(K)],
    }


def nested(result: dict[str, Any], names: list[str], picks: list[str] | None = None) -> dict[str, Any]:
    """Nested figure: in each outer fold the best-inner candidate among ``names`` (or the given picks)."""
    labels, assignment = result["_labels"], result["_assignment"]
    chosen = picks or [max(names, key=lambda c: result["_inner"][c][f]) for f in range(K)]
    predicted = np.empty(len(labels), dtype=object)
    for f in range(K):
        predicted[result["_test"][f]] = result["_outer"][chosen[f]][result["_test"][f]]
    return {
        "macro_f1": round(ns.macro(labels, predicted), 4),
        "picks_per_fold": chosen,
        "vs_baseline": ns.paired(labels, assignment, predicted, result["_outer"][BASELINE]),
    }


def main() -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train", default=str(REPO / "config" / "nlu" / "train.yml"))
    parser.add_argument("--public", default=str(REPO / "config" / "nlu" / "public" / "chatbot_nlu_intents.yml"))
    parser.add_argument("--cache", default="/tmp/nlu-cache/fourth")
    parser.add_argument("--sets", nargs="*", default=["gridline", "public"])
    parser.add_argument("--seed", type=int, default=0, help="seed of the outer folds (a robustness check)")
    parser.add_argument("--skip", nargs="*", default=[], help="base models to leave out (e.g. the slow emb_svm_*)")
    args = parser.parse_args()
    loaders = {
        "gridline": lambda: load_training(training_files(args.train)),
        "public": lambda: load_nlu_yaml(args.public),
    }
    load_before = os.getloadavg()
    cache = Path(args.cache) / (f"seed{args.seed}" if args.seed else "")
    results = {name: run(name, loaders[name](), cache / name, args.seed, args.skip) for name in args.sets}
    out: dict[str, Any] = {
        "folds": f"{K} paraphrase-grouped outer folds (seed 0), {K} grouped inner folds",
        "command": " ".join(["nice -n 15 .venv/bin/python bench/nlu_fourth.py", *sys.argv[1:]]),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "load_average_before_after": [round(load_before[0], 1), round(os.getloadavg()[0], 1)],
        "note": "scores are deterministic; base models' scores are cached in --cache (seconds: first run only)",
    }
    every = list(usable(args.skip))
    ideas = {idea: [m for m in members if m in every] for idea, members in IDEAS.items()}
    ideas = {idea: members for idea, members in ideas.items() if members}
    out["seed"], out["skipped_bases"] = args.seed, args.skip
    for name, result in results.items():
        out[name] = {k: v for k, v in result.items() if not k.startswith("_")}
        out[name]["nested_per_idea"] = {idea: nested(result, members) for idea, members in ideas.items()}
        out[name]["nested_all"] = nested(result, every)
    # one pick per outer fold for all sets: the best mean inner macro-F1 over the sets
    picks = [max(every, key=lambda c: float(np.mean([r["_inner"][c][f] for r in results.values()]))) for f in range(K)]
    out["across_sets"] = {name: nested(result, every, picks) for name, result in results.items()}
    out["across_sets_per_idea"] = {}
    for idea, members in ideas.items():
        idea_picks = [
            max(members, key=lambda c: float(np.mean([r["_inner"][c][f] for r in results.values()]))) for f in range(K)
        ]
        out["across_sets_per_idea"][idea] = {
            name: nested(result, members, idea_picks) for name, result in results.items()
        }
    return out


if __name__ == "__main__":
    print(json.dumps(main(), ensure_ascii=False, indent=1))
