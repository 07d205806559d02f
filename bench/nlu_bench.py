"""NLU benchmark: accuracy and speed on the held-out split, printed as JSON.

In one run, on the same held-out sentences (config/nlu/heldout.yml, never trained on):

* the embedded engine (the chosen method) — macro-F1, accuracy, entity F1, parse latency p50/p99,
  training time, load time, cold start in a fresh process, calibration;
* the baseline (character n-grams + logistic regression), measured the same way;
* optionally the other embedded methods (``--methods``) and K-fold cross-validation (``--cv K``);
* optionally a running Rasa server (``--rasa-url URL --rasa-token T``), called over HTTP exactly as
  Gridline calls it, without the fallback, so its own accuracy and latency are measured;
* out-of-scope texts (gibberish, emoji, digits, unrelated chat): how many are recognised as not
  understood or fall below the confidence threshold.

    .venv/bin/python bench/nlu_bench.py [--rasa-url http://127.0.0.1:5005 --rasa-token T]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from gridline.nlu import methods  # noqa: E402
from gridline.nlu.embedded import EmbeddedEngine, training_files  # noqa: E402
from gridline.nlu.evaluate import Evaluation, cross_validate, embedded_trainer, evaluate  # noqa: E402
from gridline.nlu.training_data import TrainingData, load_nlu_yaml  # noqa: E402
from gridline.nlu.types import OUT_OF_SCOPE, NluResult  # noqa: E402

# Things residents send that are not a request: the answer should be "not understood" or unsure.
OUT_OF_SCOPE_TEXTS = (  # none of these is in config/nlu/out_of_scope.yml (the reject class's training)
    "qwertyuiop",
    "zxcv bnm lkjh",
    "😀😀😀",
    "👍",
    "1234567890",
    "？？？",
    "嘻嘻嘻嘻",
    "今儿个天不赖啊",
    "晚饭做点啥吃",
    "最近有啥好看的电影",
    "基金今天亏了好多",
    "lorem ipsum dolor sit amet",
    "kjdhf skjdhf 3498",
    "你是真人吗",
    "给俺说个段子",
    "周末带孩子去哪耍",
    "血压高吃点啥好",
    "帮我查一下航班",
    "do you speak english",
    "nice to meet you bot",
)


def scores(evaluation: Evaluation) -> dict[str, Any]:
    summary = evaluation.summary()
    return {
        "macro_f1": round(summary["macro_f1"], 4),
        "accuracy": round(summary["accuracy"], 4),
        "weighted_f1": round(summary["weighted_f1"], 4),
        "entity_micro_f1": round(summary["entity_micro_f1"], 4),
        "latency_ms": summary["latency"],
    }


async def measure_embedded(train: TrainingData, heldout: TrainingData, method: str, threshold: float) -> dict[str, Any]:
    started = time.perf_counter()
    engine = EmbeddedEngine.fit(train, method)
    train_seconds = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as tmp:
        path = engine.save(tmp)
        started = time.perf_counter()
        loaded = EmbeddedEngine.load(path)
        load_seconds = time.perf_counter() - started
        cold = cold_start_seconds(path)
    for example in heldout.examples[:20]:  # warm caches the way a running service is warm
        loaded.parse_sync(example.text)
    evaluation = await evaluate(heldout, loaded.parse)
    return {
        "method": method,
        **scores(evaluation),
        "train_seconds": round(train_seconds, 3),
        "load_seconds": round(load_seconds, 3),
        "cold_start_seconds": cold,
        "confidence": evaluation.confidence_report(),
        "out_of_scope": out_of_scope(loaded.parse_sync, threshold),
        "errors": evaluation.errors(),
    }


def cold_start_seconds(model: Path) -> float | None:
    """A fresh Python process: import, load the model, parse one message (what a worker pays)."""
    code = (
        "import time; t = time.perf_counter()\n"
        "from gridline.nlu.embedded import EmbeddedEngine\n"
        f"e = EmbeddedEngine.load({str(model)!r}); e.parse_sync('俺们楼停水了')\n"
        "print(time.perf_counter() - t)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=False)
    try:
        return round(float(done.stdout.strip().splitlines()[-1]), 3)
    except (ValueError, IndexError):
        return None


def out_of_scope(parse: Any, threshold: float) -> dict[str, Any]:
    results: list[NluResult] = [parse(text) for text in OUT_OF_SCOPE_TEXTS]
    fallback = sum(1 for r in results if r.intent == OUT_OF_SCOPE)
    unsure = sum(1 for r in results if r.intent != OUT_OF_SCOPE and r.confidence < threshold)
    return {
        "texts": len(results),
        "not_understood": fallback,
        "below_threshold": unsure,
        "confidently_wrong": len(results) - fallback - unsure,
        "answers": {
            text: [r.intent, round(r.confidence, 3)] for text, r in zip(OUT_OF_SCOPE_TEXTS, results, strict=True)
        },
    }


async def measure_rasa(url: str, token: str, heldout: TrainingData, timeout: float) -> dict[str, Any]:
    import httpx

    async with httpx.AsyncClient(base_url=url, timeout=timeout) as client:
        status = await client.get("/status", params={"token": token} if token else None)
        status.raise_for_status()

        async def parse(text: str) -> NluResult:
            response = await client.post(
                "/model/parse", params={"token": token} if token else None, json={"text": text}
            )
            response.raise_for_status()
            return NluResult.from_rasa(response.json(), engine="rasa")

        for example in heldout.examples[:20]:
            await parse(example.text)
        evaluation = await evaluate(heldout, parse)
    return {"url": url, "model": status.json().get("model_file"), **scores(evaluation), "errors": evaluation.errors()}


async def main() -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train", default=str(REPO / "config" / "nlu" / "train.yml"))
    parser.add_argument("--heldout", default=str(REPO / "config" / "nlu" / "heldout.yml"))
    parser.add_argument("--methods", nargs="*", default=[], help=f"also measure: {', '.join(methods.METHODS)}")
    parser.add_argument("--cv", type=int, default=0, help="also K-fold cross-validate the chosen method on --train")
    parser.add_argument("--threshold", type=float, default=0.45, help="confidence threshold (settings.nlu)")
    parser.add_argument("--rasa-url", default="")
    parser.add_argument("--rasa-token", default="")
    parser.add_argument("--rasa-timeout", type=float, default=30.0)
    parser.add_argument("--errors", action="store_true", help="include misclassified sentences")
    args = parser.parse_args()

    train = load_nlu_yaml(training_files(args.train))
    heldout = load_nlu_yaml(args.heldout)
    out: dict[str, Any] = {
        "train": {"file": args.train, "examples": len(train.examples), "intents": len(train.intents)},
        "heldout": {"file": args.heldout, "examples": len(heldout.examples)},
        "embedded": await measure_embedded(train, heldout, methods.DEFAULT_METHOD, args.threshold),
        "baseline": await measure_embedded(train, heldout, methods.BASELINE_METHOD, args.threshold),
    }
    others = [m for m in args.methods if m not in (methods.DEFAULT_METHOD, methods.BASELINE_METHOD)]
    if others:
        out["methods"] = {m: await measure_embedded(train, heldout, m, args.threshold) for m in others}
    if args.cv:
        cv = await cross_validate(train, args.cv, embedded_trainer(methods.DEFAULT_METHOD))
        baseline_cv = await cross_validate(train, args.cv, embedded_trainer(methods.BASELINE_METHOD))
        out["cross_validation"] = {
            "folds": args.cv,
            "embedded": {**scores(cv), "confidence": cv.confidence_report()},
            "baseline": scores(baseline_cv),
        }
    if args.rasa_url:
        out["rasa"] = await measure_rasa(args.rasa_url, args.rasa_token, heldout, args.rasa_timeout)
        rasa_p50 = out["rasa"]["latency_ms"]["p50_ms"]
        embedded_p50 = out["embedded"]["latency_ms"]["p50_ms"]
        out["embedded_vs_rasa"] = {
            "macro_f1_difference": round(out["embedded"]["macro_f1"] - out["rasa"]["macro_f1"], 4),
            "p50_speedup": round(rasa_p50 / embedded_p50, 1) if embedded_p50 else None,
        }
    if not args.errors:
        for section in (out["embedded"], out["baseline"], *out.get("methods", {}).values(), out.get("rasa", {})):
            section.pop("errors", None)
    return out


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main()), ensure_ascii=False, indent=2))
