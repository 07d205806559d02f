"""Several NLU methods on the same data in one run, side by side (``gridline nlu evaluate --compare``).

* :func:`compare_folds` cross-validates each embedded method on the *same* folds
  (:func:`gridline.nlu.evaluate.folds`: stratified, seeded, independent of file order), extra
  documents joining every fold's training set and never its test set.
  With ``rasa`` (``--rasa-folds``: :mod:`gridline.nlu.rasa_folds`) a running Rasa server is
  retrained on each fold's training side through its HTTP API and tested on the same test side.
* :func:`compare_heldout` trains each method on the training data and tests it on a held-out file;
  a running Rasa server is tested on the same file, called over HTTP without Gridline's fallback,
  so its own answers are measured.

Every row has the same columns: gold-label macro-F1, accuracy, abstentions, the share answered
above the confidence threshold and their accuracy, training seconds, parse p50/p99.
"""

from __future__ import annotations

import time
import unicodedata
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from gridline.nlu.evaluate import Evaluation, evaluate, folds
from gridline.nlu.training_data import TrainingData, TrainingExample
from gridline.nlu.types import NluResult

if TYPE_CHECKING:
    from gridline.nlu.rasa_folds import RasaFolds


@dataclass(frozen=True)
class MethodScore:
    """One row of the comparison table."""

    method: str
    examples: int
    macro_f1: float
    accuracy: float
    abstained: int
    coverage: float  # answered with an intent at or above the threshold
    accuracy_covered: float
    train_seconds: float | None
    p50_ms: float
    p99_ms: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def score(method: str, evaluation: Evaluation, train_seconds: float | None, threshold: float) -> MethodScore:
    gold = evaluation.gold_report()
    at = evaluation.coverage_report((threshold,))[0]
    latency = evaluation.latency()
    return MethodScore(
        method=method,
        examples=gold["examples"],
        macro_f1=round(gold["macro_f1"], 4),
        accuracy=round(gold["accuracy"], 4),
        abstained=gold["abstained"],
        coverage=at["coverage"],
        accuracy_covered=at["accuracy_covered"],
        train_seconds=None if train_seconds is None else round(train_seconds, 2),
        p50_ms=latency["p50_ms"],
        p99_ms=latency["p99_ms"],
    )


def _without(extra: TrainingData, test: Sequence[TrainingExample]) -> TrainingData:
    texts = {ex.text for ex in test}
    return TrainingData(examples=[ex for ex in extra.examples if ex.text not in texts])


def fold_sides(
    data: TrainingData, k: int, *, seed: int = 0, extra: TrainingData | None = None, grouped: bool = False
) -> list[tuple[TrainingData, list[TrainingExample]]]:
    """The K (training side, test side) pairs every method of one run is scored on; extra documents
    join each training side, never a test side (nor one of its test sentences)."""
    return [
        (fold_train.merge(_without(extra, fold_test)) if extra else fold_train, fold_test)
        for fold_train, fold_test in folds(data, k, seed=seed, grouped=grouped)
    ]


async def rasa_cross_validated(
    data: TrainingData, k: int, rasa: RasaFolds, *, seed: int = 0, extra: TrainingData | None = None,
    grouped: bool = False,
) -> Evaluation:
    """Rasa retrained on each fold's training side (through its server), tested on its test side."""
    combined = Evaluation()
    for train, fold_test in fold_sides(data, k, seed=seed, extra=extra, grouped=grouped):
        await rasa.train(train)
        await rasa.parse(fold_test[0].text)  # the first parse of a model builds its graph
        combined.predictions.extend((await evaluate(fold_test, rasa.parse)).predictions)
    return combined


async def cross_validated(
    data: TrainingData,
    k: int,
    method: str,
    *,
    seed: int = 0,
    extra: TrainingData | None = None,
    grouped: bool = False,
) -> tuple[Evaluation, float]:
    """One method over the K folds; returns the evaluation of all folds and the total training time."""
    from gridline.nlu.embedded import EmbeddedEngine

    combined = Evaluation()
    seconds = 0.0
    for train, fold_test in fold_sides(data, k, seed=seed, extra=extra, grouped=grouped):
        started = time.perf_counter()
        engine = EmbeddedEngine.fit(train, method)
        seconds += time.perf_counter() - started
        combined.predictions.extend((await evaluate(fold_test, engine.parse_sync)).predictions)
    return combined, seconds


async def compare_folds(
    data: TrainingData,
    k: int,
    methods: Sequence[str],
    *,
    threshold: float,
    seed: int = 0,
    extra: TrainingData | None = None,
    grouped: bool = False,
    rasa: RasaFolds | None = None,
) -> list[MethodScore]:
    """Every method cross-validated on the same K folds of ``data`` (and Rasa, when given)."""
    rows = []
    for method in methods:
        evaluation, seconds = await cross_validated(data, k, method, seed=seed, extra=extra, grouped=grouped)
        rows.append(score(method, evaluation, seconds, threshold))
    if rasa is not None:
        evaluation = await rasa_cross_validated(data, k, rasa, seed=seed, extra=extra, grouped=grouped)
        rows.append(score("rasa", evaluation, rasa.train_seconds, threshold))
    return rows


ParseFn = Callable[[str], Awaitable[NluResult]]


async def compare_heldout(
    train: TrainingData,
    test: TrainingData,
    methods: Sequence[str],
    *,
    threshold: float,
    rasa: ParseFn | None = None,
) -> list[MethodScore]:
    """Every method trained on ``train`` and tested on ``test``; Rasa too when ``rasa`` is given."""
    from gridline.nlu.embedded import EmbeddedEngine

    rows = []
    for method in methods:
        started = time.perf_counter()
        engine = EmbeddedEngine.fit(train, method)
        seconds = time.perf_counter() - started
        for example in test.examples[:20]:  # warm, as a running service is
            engine.parse_sync(example.text)
        rows.append(score(method, await evaluate(test, engine.parse_sync), seconds, threshold))
    if rasa is not None:
        for example in test.examples[:20]:
            await rasa(example.text)
        rows.append(score("rasa", await evaluate(test, rasa), None, threshold))
    return rows


async def rasa_server(url: str, token: str, timeout: float) -> tuple[ParseFn, Callable[[], Awaitable[None]]] | None:
    """A parse function calling the Rasa server at ``url`` directly, or None when it is not up."""
    import httpx

    params = {"token": token} if token else None
    client = httpx.AsyncClient(base_url=url, timeout=timeout)
    try:
        status = await client.get("/status", params=params)
        status.raise_for_status()
    except httpx.HTTPError:
        await client.aclose()
        return None

    async def parse(text: str) -> NluResult:
        response = await client.post("/model/parse", params=params, json={"text": text})
        response.raise_for_status()
        return NluResult.from_rasa(response.json(), engine="rasa")

    return parse, client.aclose


COLUMNS = (
    "method",
    "macro_f1",
    "accuracy",
    "abstained",
    "coverage",
    "accuracy_covered",
    "train_seconds",
    "p50_ms",
    "p99_ms",
)


def table(rows: Sequence[MethodScore], headers: Sequence[str]) -> str:
    """A plain-text table, one row per method, columns ``COLUMNS`` under ``headers``."""
    cells = [list(headers)] + [["—" if getattr(r, c) is None else str(getattr(r, c)) for c in COLUMNS] for r in rows]
    widths = [max(_width(row[i]) for row in cells) for i in range(len(COLUMNS))]
    lines = ["  ".join(cell + " " * (widths[i] - _width(cell)) for i, cell in enumerate(row)).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _width(text: str) -> int:
    """Columns a terminal gives ``text``: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)
