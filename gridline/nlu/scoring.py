"""Scoring a message with what a trained pipeline learned — without scikit-learn at run time.

scikit-learn validates its input on every call (~10 ms per message on a small machine, as slow as a
Rasa server) and importing it takes seconds. A linear model over TF-IDF features is a few dictionary
lookups and one small matrix product, so :class:`LinearScorer` copies what the fitted pipeline
learned — analyzers, vocabularies, idf weights, coefficients, temperature — into plain Python and
NumPy. That is what the model file holds; a worker loads it without importing scikit-learn and
scores a message in a fraction of a millisecond. ``tests/nlu`` checks that it computes exactly the
pipeline's probabilities.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np

from gridline.nlu.text import jieba_search_words, jieba_words, normalise_for_classifier, pinyin_grams

_WHITE_SPACES = re.compile(r"\s\s+")


_TOKENIZERS = {"words": jieba_words, "search_words": jieba_search_words, "pinyin": pinyin_grams}


@dataclass(frozen=True)
class Analyzer:
    """Turns text into the n-grams a TF-IDF vectoriser counted (same rules as scikit-learn's)."""

    # "char_wb" (characters within word boundaries) | "words" (jieba) | "search_words" (jieba's
    # search mode) | "pinyin" (toneless syllables and pairs)
    kind: str
    ngram_range: tuple[int, int]

    def __call__(self, text: str) -> list[str]:
        document = normalise_for_classifier(text)
        if self.kind == "char_wb":
            return _char_wb_ngrams(document, *self.ngram_range)
        if self.kind in _TOKENIZERS:
            return _word_ngrams(_TOKENIZERS[self.kind](document), *self.ngram_range)
        raise ValueError(f"unknown analyzer kind {self.kind!r}")


def _char_wb_ngrams(document: str, min_n: int, max_n: int) -> list[str]:
    # scikit-learn's char_wb: pad each whitespace-separated word with one space on both sides.
    grams: list[str] = []
    for word in _WHITE_SPACES.sub(" ", document).split():
        padded = f" {word} "
        length = len(padded)
        for n in range(min_n, max_n + 1):
            offset = 0
            grams.append(padded[offset : offset + n])
            while offset + n < length:
                offset += 1
                grams.append(padded[offset : offset + n])
            if offset == 0:  # a word shorter than n is counted once
                break
    return grams


def _word_ngrams(tokens: list[str], min_n: int, max_n: int) -> list[str]:
    if max_n == 1:
        return tokens
    grams = list(tokens) if min_n == 1 else []
    for n in range(max(min_n, 2), min(max_n, len(tokens)) + 1):
        grams.extend(" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1))
    return grams


@dataclass
class FeatureBlock:
    """One TF-IDF vectoriser: analyzer, vocabulary, idf, and its offset in the joint feature space."""

    analyzer: Analyzer
    vocabulary: dict[str, int]
    idf: np.ndarray
    sublinear: bool
    offset: int


@dataclass
class LinearScorer:
    """Probabilities of a ``TF-IDF (+ FeatureUnion) → linear model`` pipeline, fast and sklearn-free."""

    blocks: list[FeatureBlock]
    weights: np.ndarray  # (features × intents): a message's score is a sum of a few rows
    intercept: np.ndarray
    temperature: float
    classes: list[str]

    @classmethod
    def from_pipeline(cls, pipeline: Any) -> LinearScorer:
        """Copy what a fitted pipeline (see :mod:`gridline.nlu.classifier`) learned."""
        from sklearn.linear_model import LogisticRegression

        model = pipeline.named_steps["model"]
        if isinstance(model, LogisticRegression):
            linear, temperature = model, 1.0
        elif hasattr(model, "svm_") and hasattr(model, "temperature_"):  # CalibratedLinearSVC
            linear, temperature = model.svm_, float(model.temperature_)
        else:
            raise TypeError(f"LinearScorer cannot score {type(model).__name__}")
        weights = np.ascontiguousarray(np.asarray(linear.coef_, dtype=np.float64).T)
        intercept = np.asarray(linear.intercept_, dtype=np.float64)
        if weights.shape[1] == 1:  # two intents: scikit-learn stores one score column
            if isinstance(model, LogisticRegression):  # sigmoid(s) == softmax([0, s])
                weights = np.hstack([np.zeros_like(weights), weights])
                intercept = np.array([0.0, intercept[0]])
            else:  # CalibratedLinearSVC scores two intents as [-s, s]
                weights = np.hstack([-weights, weights])
                intercept = np.array([-intercept[0], intercept[0]])
        return cls(
            blocks=_blocks(pipeline.named_steps["features"]),
            weights=weights,
            intercept=intercept,
            temperature=temperature,
            classes=[str(c) for c in model.classes_],
        )

    def proba(self, text: str) -> np.ndarray:
        """One probability per intent of ``self.classes`` (same order)."""
        scores = self.intercept.copy()
        for block in self.blocks:
            indices: list[int] = []
            values: list[float] = []
            for gram, count in Counter(block.analyzer(text)).items():
                index = block.vocabulary.get(gram)
                if index is None:
                    continue
                tf = 1.0 + math.log(count) if block.sublinear else float(count)
                indices.append(index)
                values.append(tf * float(block.idf[index]))
            if not indices:
                continue
            vector = np.asarray(values)
            vector /= np.sqrt(vector @ vector)
            scores += vector @ self.weights[np.asarray(indices) + block.offset]
        scaled = scores / self.temperature
        exp = np.exp(scaled - scaled.max())
        result: np.ndarray = exp / exp.sum()
        return result

    def coverage(self, text: str) -> float:
        """Share of the text's distinct characters that occur anywhere in the training data.

        Low for another script, keyboard mash in letters never trained on, symbols; a real message
        written in Chinese almost never has half its characters unseen. (Character *bigrams*, used
        before issue 14, were unseen in short real messages too often: 1 % of a public data set's
        sentences, a third of which would have been classified right.)
        """
        chars = next((b for b in self.blocks if b.analyzer.kind == "char_wb"), None)
        if chars is None:
            return 1.0
        seen = set(normalise_for_classifier(text).replace(" ", ""))
        if not seen:
            return 0.0
        return sum(1 for ch in seen if ch in chars.vocabulary) / len(seen)


def _blocks(features: Any) -> list[FeatureBlock]:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion

    parts = [p for _, p in features.transformer_list] if isinstance(features, FeatureUnion) else [features]
    blocks = []
    offset = 0
    for vectorizer in parts:
        if not isinstance(vectorizer, TfidfVectorizer) or vectorizer.norm != "l2" or not vectorizer.use_idf:
            raise TypeError("LinearScorer supports L2-normalised TF-IDF vectorisers only")
        if vectorizer.preprocessor is not normalise_for_classifier:
            raise TypeError("LinearScorer expects normalise_for_classifier as the preprocessor")
        if vectorizer.analyzer == "char_wb":
            analyzer = Analyzer("char_wb", tuple(vectorizer.ngram_range))
        elif vectorizer.analyzer == "word" and vectorizer.tokenizer in _TOKENIZERS.values():
            kind = next(k for k, fn in _TOKENIZERS.items() if fn is vectorizer.tokenizer)
            analyzer = Analyzer(kind, tuple(vectorizer.ngram_range))
        else:
            raise TypeError(f"LinearScorer cannot reproduce analyzer {vectorizer.analyzer!r}")
        blocks.append(
            FeatureBlock(
                analyzer=analyzer,
                vocabulary={str(k): int(v) for k, v in vectorizer.vocabulary_.items()},
                idf=np.asarray(vectorizer.idf_, dtype=np.float64),
                sublinear=bool(vectorizer.sublinear_tf),
                offset=offset,
            )
        )
        offset += len(vectorizer.vocabulary_)
    return blocks
