"""The embedded NLU engine: trained from the Rasa YAML on the CPU in seconds, no downloads.

A model is saved as two files in the model directory::

    embedded-<version>.pickle   the scorer (vocabularies, idf, weights, temperature) and gazetteer
    embedded-<version>.json     metadata: version, data fingerprint, method, intents, sizes, times

Training uses scikit-learn; the saved scorer does not (:mod:`gridline.nlu.scoring`), so loading a
model imports only NumPy and takes a fraction of a second, even in a fresh process.

``version`` is a hash of the training data (examples, synonyms, regexes, lookups), ``CODE_VERSION``
and the method, so a model file always says exactly what it was trained from and a changed training
set never silently reuses an old model.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gridline.nlu.assertion import asserted_part
from gridline.nlu.entities import EntityExtractor, Gazetteer
from gridline.nlu.methods import DEFAULT_METHOD
from gridline.nlu.names import name_documents
from gridline.nlu.scoring import LinearScorer
from gridline.nlu.text import has_content, normalise_for_classifier
from gridline.nlu.training_data import DOCUMENT_SUFFIXES, TrainingData, load_documents
from gridline.nlu.types import OUT_OF_SCOPE, IntentScore, NluResult

ENGINE_NAME = "embedded"
# Bump when the features or the model change in a way that should invalidate saved models (entity
# rules live in the code, not in the model file, so they apply to saved models at once).
CODE_VERSION = "9"
# When fewer than half of a text's characters were ever seen in training (another script, symbols,
# mash), it is out of scope whatever the classifier says. Measured by 5-fold cross-validation
# (docs/nlu.md): fires on 4 of 1,700 Gridline sentences (3 of them out of scope) and 3 of 1,606
# public ones.
MIN_VOCABULARY_COVERAGE = 0.5
RANKING_SIZE = 10
# Files loaded with the training file when present beside it: the lookup tables generated from the
# address directory, and the out-of-scope examples the reject class (``nlu_fallback``) learns from.
COMPANION_FILES = ("lookups.yml", "out_of_scope.yml")
# Extra labelled documents beside the training file (long descriptions, exported corrections):
# every .yml/.yaml/.jsonl/.csv in this folder is trained on too (``load_documents``).
EXTRA_DIRECTORY = "extra"


def training_files(data_path: str | Path) -> list[Path]:
    """The training file, its companion files (``COMPANION_FILES``) and the extra documents folder."""
    path = Path(data_path)
    files = [path]
    if path.is_file():
        files += [
            path.parent / name
            for name in COMPANION_FILES
            if (path.parent / name).is_file() and (path.parent / name) != path
        ]
        extra = path.parent / EXTRA_DIRECTORY
        if extra.is_dir():
            files += sorted(p for p in extra.iterdir() if p.suffix in DOCUMENT_SUFFIXES and p.is_file())
    return files


def load_training(files: Sequence[str | Path]) -> TrainingData:
    """Rasa YAML files and extra documents (JSON lines, CSV) merged into one training set."""
    data = TrainingData()
    for file in files:
        data = data.merge(load_documents(file))
    return data


# The data fingerprint's prefix that results carry (``NluResult.data_hash``).
DATA_HASH_LENGTH = 12


def model_version(data: TrainingData, method: str = DEFAULT_METHOD) -> str:
    """The version a model trained on ``data`` with ``method`` gets (12 hex digits)."""
    blob = f"{data.fingerprint()}|{CODE_VERSION}|{method}"
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


@dataclass
class EmbeddedModel:
    """What is saved: the scorer, the gazetteer tables and metadata (plain data and NumPy arrays)."""

    version: str
    method: str
    scorer: LinearScorer
    lookups: dict[str, list[str]]
    synonyms: dict[str, str]
    metadata: dict[str, Any]


class EmbeddedEngine:
    """Intent classifier + rule/lookup entity extractor; implements the ``NluEngine`` protocol."""

    name = ENGINE_NAME

    def __init__(self, model: EmbeddedModel) -> None:
        self.model = model
        self.version = model.version
        # Shown beside the version on the case timeline: which training data the model learnt.
        self.data_hash = str(model.metadata.get("data_fingerprint") or "")[:DATA_HASH_LENGTH]
        self.extractor = EntityExtractor(Gazetteer.from_tables(model.lookups, model.synonyms))
        self.scorer = model.scorer
        # The first message would otherwise pay for lazy imports and tables (pypinyin's dictionary,
        # jieba's): pay it here, when the model is loaded, not while a resident waits.
        self.scorer.proba("你好，停水了")

    # -- training, saving, loading ----------------------------------------------------------------

    @classmethod
    def fit(cls, data: TrainingData, method: str = DEFAULT_METHOD) -> EmbeddedEngine:
        """Train in memory (evaluation folds, tests); :func:`train` also saves the files."""
        import sklearn

        from gridline.nlu import classifier  # scikit-learn is needed for training only

        started = time.perf_counter()
        # The classifier learns from what each example asserts, as it reads messages (parse_sync).
        texts = [asserted_part(normalise_for_classifier(ex.text)) for ex in data.examples]
        intents = [ex.intent for ex in data.examples]
        # Each intent's own name is one more document of it (names.py: chosen by cross-validation).
        for intent in sorted(set(intents)):
            for document in name_documents(intent):
                texts.append(document)
                intents.append(intent)
        pipeline = classifier.fit(texts, intents, method)
        version = model_version(data, method)
        metadata = {
            "engine": ENGINE_NAME,
            "version": version,
            "code_version": CODE_VERSION,
            "method": method,
            "data_fingerprint": data.fingerprint(),
            "intents": sorted(data.intents),
            "examples": len(data.examples),
            "sklearn": sklearn.__version__,
            "trained_at": datetime.now(UTC).isoformat(),  # build metadata only, not domain logic
            "train_seconds": round(time.perf_counter() - started, 3),
        }
        scorer = LinearScorer.from_pipeline(pipeline)
        model = EmbeddedModel(version, method, scorer, data.lookups, data.synonym_map(), metadata)
        return cls(model)

    def save(self, model_dir: str | Path) -> Path:
        """Write ``embedded-<version>.pickle`` and its ``.json`` metadata; returns the model path."""
        directory = Path(model_dir)
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / model_filename(self.version)
        # Write under a temporary name and rename: a concurrent process never loads half a file.
        tmp = path.with_suffix(f".pickle.tmp{os.getpid()}")
        with tmp.open("wb") as fh:
            pickle.dump(self.model, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
        meta_path = path.with_suffix(".json")
        meta_tmp = meta_path.with_suffix(f".json.tmp{os.getpid()}")
        meta_tmp.write_text(json.dumps(self.model.metadata, ensure_ascii=False, indent=2), encoding="utf-8")
        os.replace(meta_tmp, meta_path)
        return path

    @classmethod
    def load(cls, path: str | Path) -> EmbeddedEngine:
        """Load a saved model file (written by :meth:`save`; only load files you wrote: it is a pickle)."""
        with Path(path).open("rb") as fh:
            model = pickle.load(fh)
        if not isinstance(model, EmbeddedModel):
            raise ValueError(f"{path} is not an embedded Gridline NLU model")
        return cls(model)

    # -- parsing ----------------------------------------------------------------------------------

    async def parse(self, text: str) -> NluResult:
        """Classify ``text`` (the protocol method; the work is synchronous and takes ~1 ms)."""
        return self.parse_sync(text)

    def parse_sync(self, text: str) -> NluResult:
        """Intent, confidence, ranking and entities; odd input gives ``nlu_fallback``, never an error."""
        text = text if isinstance(text, str) else str(text or "")
        entities = self.extractor.extract(text)
        cleaned = normalise_for_classifier(text)
        if not has_content(cleaned):
            return self._not_understood(text, entities, "no_words")
        # What the resident denies (「不是自来水，是暖气管漏的」) is not evidence for a category.
        probs = self._asserted_probabilities(cleaned)
        order = [i for i in probs.argsort()[::-1] if self.scorer.classes[i] != OUT_OF_SCOPE]
        # The reject class is not an intent a resident can be offered: it stays out of the ranking.
        scores = [IntentScore(self.scorer.classes[i], round(float(probs[i]), 6)) for i in order[:RANKING_SIZE]]
        rejected = self.scorer.classes[int(probs.argmax())] == OUT_OF_SCOPE
        if rejected:
            return self._not_understood(text, entities, f"out_of_scope:{probs.max():.2f}", scores)
        coverage = self.scorer.coverage(cleaned)
        if coverage < MIN_VOCABULARY_COVERAGE:
            return self._not_understood(text, entities, f"unknown_words:{coverage:.2f}", scores)
        best = scores[0]
        return NluResult(
            text=text,
            intent=best.name,
            confidence=best.confidence,
            ranking=scores,
            entities=entities,
            engine=ENGINE_NAME,
            model_version=self.version,
            data_hash=self.data_hash,
        )

    def _asserted_probabilities(self, cleaned: str) -> Any:
        """The intent probabilities of what ``cleaned`` asserts (``assertion.asserted_part``).

        When a part was taken out and the whole message points at the *same* intent, the part taken
        out only named the thing the problem is in (「电梯运行正常，就是按钮不灵」: 按钮不灵 alone is
        ``elevator`` at 0.26, the whole message ``elevator`` too): both parts are evidence for that
        intent, and the more confident reading of the two is taken. When they point at different
        intents (「电梯没问题，就是单元门的门禁坏了」, 「不是自来水，是暖气管漏的」), what is asserted decides.
        """
        asserted = asserted_part(cleaned)
        probs = self.scorer.proba(asserted)
        if asserted == cleaned:
            return probs
        whole = self.scorer.proba(cleaned)
        best = int(probs.argmax())
        if int(whole.argmax()) == best and whole[best] > probs[best]:
            return whole
        return probs

    def _not_understood(
        self, text: str, entities: list[Any], reason: str, ranking: Sequence[IntentScore] = ()
    ) -> NluResult:
        return NluResult(
            text=text,
            intent=OUT_OF_SCOPE,
            confidence=0.0,
            ranking=list(ranking),
            entities=entities,
            engine=ENGINE_NAME,
            model_version=self.version,
            note=f"not_understood:{reason}",
            data_hash=self.data_hash,
        )


def model_filename(version: str) -> str:
    return f"embedded-{version}.pickle"


def train(
    data_path: str | Path | Sequence[str | Path],
    model_dir: str | Path,
    method: str = DEFAULT_METHOD,
) -> Path:
    """Train on a Rasa NLU file (plus its ``lookups.yml``) and save the model; returns its path."""
    files = training_files(data_path) if isinstance(data_path, str | Path) else [Path(p) for p in data_path]
    engine = EmbeddedEngine.fit(load_training(files), method)
    return engine.save(model_dir)


def load(model_dir: str | Path, version: str | None = None) -> EmbeddedEngine:
    """Load model ``version`` from ``model_dir``, or the newest saved one when no version is given."""
    directory = Path(model_dir)
    if version is not None:
        return EmbeddedEngine.load(directory / model_filename(version))
    candidates = sorted(directory.glob("embedded-*.pickle"), key=lambda p: p.stat().st_mtime, reverse=True)
    if not candidates:
        raise FileNotFoundError(f"no embedded NLU model in {directory}; run `gridline nlu train`")
    return EmbeddedEngine.load(candidates[0])
