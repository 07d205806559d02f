"""Rasa 3.6 DIET on the *same* cross-validation folds as the embedded engine (one model per fold).

For each fold of :func:`gridline.nlu.evaluate.folds` (stratified, seeded, optionally grouped by
paraphrase), the fold's training side — examples, synonyms, regexes, lookup tables and any extra
documents — is written as Rasa YAML, ``rasa train nlu`` trains on it with ``rasa/config.yml``
(under ``nice -n 10``), and ``bench/rasa_predict.py`` parses the fold's test sentences with that
model in-process. The parses are cached by a hash of Rasa's version, the pipeline, the training
YAML and the test texts (``~/.cache/gridline/rasa-folds/``, models are not kept), so a second run
costs nothing and a changed fold trains again.

Used by ``bench/nlu_bench.py --rasa-folds``; on its own it prints the gold-label report as JSON:

    .venv/bin/python bench/rasa_folds.py --data config/nlu/train.yml --cv 5 [--grouped] [--seed 0]

Rasa's ``FallbackClassifier`` (threshold 0.3) answers ``nlu_fallback`` below its threshold; the
report counts that as an abstention (a miss), exactly as for the embedded engine. ``diet_top1``
is DIET's own first intent with that fallback taken out.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from gridline.nlu.evaluate import Evaluation, Prediction, folds  # noqa: E402
from gridline.nlu.rasa_runtime import rasa_venv  # noqa: E402
from gridline.nlu.training_data import TrainingData, TrainingExample, dump_nlu_yaml  # noqa: E402
from gridline.nlu.types import OUT_OF_SCOPE, IntentScore, NluResult  # noqa: E402

CONFIG = REPO / "rasa" / "config.yml"
CACHE = Path(os.environ.get("GRIDLINE_RASA_FOLDS_CACHE", Path.home() / ".cache" / "gridline" / "rasa-folds"))
RASA_VERSION = "3.6.21"  # scripts/rasa-setup.sh
# DIET ranks its ten best intents; Rasa's FallbackClassifier inserts nlu_fallback before them.
DIET_RANKING_LENGTH = 10


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.update({"RASA_TELEMETRY_ENABLED": "false", "RASA_MAX_CACHE_SIZE": "0", "TF_CPP_MIN_LOG_LEVEL": "2"})
    return env


def fold_parses(train: TrainingData, texts: Sequence[str], *, log: Any = sys.stderr) -> dict[str, Any]:
    """Train Rasa on ``train``, parse ``texts``; ``{"train_seconds", "parses", "seconds"}`` (cached)."""
    training_yaml = dump_nlu_yaml(train)
    key = hashlib.sha256(
        json.dumps([RASA_VERSION, CONFIG.read_text(), training_yaml, list(texts)], ensure_ascii=False).encode()
    ).hexdigest()[:16]
    cached = CACHE / f"{key}.json"
    if cached.is_file():
        result: dict[str, Any] = json.loads(cached.read_text())
        return result
    venv = rasa_venv()
    with tempfile.TemporaryDirectory(prefix="gridline-rasa-fold-") as tmp:
        work = Path(tmp)
        (work / "nlu").mkdir()
        (work / "nlu" / "train.yml").write_text(training_yaml, encoding="utf-8")
        print(f"rasa_folds: training fold {key} ({len(train.examples)} examples)", file=log, flush=True)
        started = time.perf_counter()
        command = ["nice", "-n", "10", str(venv / "bin" / "rasa"), "train", "nlu", "--nlu", str(work / "nlu")]
        command += ["--config", str(CONFIG), "--out", str(work / "out"), "--fixed-model-name", "fold"]
        done = subprocess.run(command, cwd=work, env=_env(), capture_output=True, text=True, check=False)
        train_seconds = time.perf_counter() - started
        model = work / "out" / "fold.tar.gz"
        if done.returncode != 0 or not model.is_file():
            raise RuntimeError(f"rasa train failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
        (work / "texts.json").write_text(json.dumps(list(texts), ensure_ascii=False), encoding="utf-8")
        command = ["nice", "-n", "10", str(venv / "bin" / "python"), str(REPO / "bench" / "rasa_predict.py")]
        command += [str(model), str(work / "texts.json"), str(work / "parses.json")]
        done = subprocess.run(command, cwd=work, env=_env(), capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"rasa_predict failed ({done.returncode}):\n{done.stderr[-3000:]}")
        predicted = json.loads((work / "parses.json").read_text(encoding="utf-8"))
    result = {"train_seconds": round(train_seconds, 1), **predicted}
    CACHE.mkdir(parents=True, exist_ok=True)
    cached.with_suffix(".tmp").write_text(json.dumps(result, ensure_ascii=False))
    cached.with_suffix(".tmp").rename(cached)
    return result


def diet_top1(parse: dict[str, Any], result: NluResult) -> NluResult:
    """DIET's own first intent: the answer without Rasa's FallbackClassifier.

    Read from the raw parse: ``NluResult.from_rasa`` drops ``nlu_fallback`` from the ranking, but a
    DIET trained with the reject class can rank it first itself — that is DIET's own answer and stays.
    Only the ``nlu_fallback`` the FallbackClassifier *inserted* before DIET's ten (an 11th entry) goes.
    """
    raw = parse.get("intent_ranking") or []
    ranking = [IntentScore(r["name"], float(r["confidence"])) for r in raw]
    if result.intent == OUT_OF_SCOPE and len(ranking) > DIET_RANKING_LENGTH and ranking[0].name == OUT_OF_SCOPE:
        ranking = ranking[1:]
    if not ranking:
        return result
    top: IntentScore = ranking[0]
    return NluResult(
        text=result.text, intent=top.name, confidence=top.confidence, ranking=ranking, engine=result.engine
    )


def rasa_cross_validated(
    data: TrainingData,
    k: int,
    *,
    seed: int = 0,
    grouped: bool = False,
    extra: TrainingData | None = None,
) -> tuple[Evaluation, Evaluation, float]:
    """Rasa over the K folds: (with its fallback, DIET's top intent, total training seconds)."""
    with_fallback, top1 = Evaluation(), Evaluation()
    seconds = 0.0
    for fold_train, fold_test in folds(data, k, seed=seed, grouped=grouped):
        train = fold_train.merge(_without(extra, fold_test)) if extra else fold_train
        out = fold_parses(train, [ex.text for ex in fold_test])
        seconds += out["train_seconds"]
        for example, parse, took in zip(fold_test, out["parses"], out["seconds"], strict=True):
            result = NluResult.from_rasa(parse, engine="rasa")
            with_fallback.predictions.append(Prediction(example, result, took))
            top1.predictions.append(Prediction(example, diet_top1(parse, result), took))
    return with_fallback, top1, seconds


def _without(extra: TrainingData, test: Sequence[TrainingExample]) -> TrainingData:
    texts = {ex.text for ex in test}
    return TrainingData(examples=[ex for ex in extra.examples if ex.text not in texts])


async def main() -> dict[str, Any]:
    from gridline.nlu.embedded import load_training, training_files
    from gridline.nlu.training_data import load_nlu_yaml

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=str(REPO / "config" / "nlu" / "train.yml"))
    parser.add_argument("--cv", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--grouped", action="store_true")
    parser.add_argument("--companions", action="store_true", help="read lookups.yml / out_of_scope.yml beside DATA")
    args = parser.parse_args()
    data = load_training(training_files(args.data)) if args.companions else load_nlu_yaml(args.data)
    with_fallback, top1, seconds = rasa_cross_validated(data, args.cv, seed=args.seed, grouped=args.grouped)
    return {
        "data": args.data,
        "folds": args.cv,
        "seed": args.seed,
        "grouped": args.grouped,
        "train_seconds": round(seconds, 1),
        "rasa": with_fallback.gold_report(),
        "diet_top1": top1.gold_report(),
    }


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main()), ensure_ascii=False, indent=2))
