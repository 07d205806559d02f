"""Rasa engine benchmark: what running Rasa costs, printed as JSON.

In one run:

* training — the time recorded when the cached model was trained (``--retrain`` trains again and
  times it), the model's size;
* server start — ``scripts/rasa-serve.sh`` until ``/status`` answers, and the first parse (TensorFlow
  builds its graph then);
* parse latency p50/p99 on the held-out sentences through :class:`RasaEngine`, the way Gridline calls
  Rasa (HTTP, token, entity clean-up), next to the embedded engine on the same sentences;
* the fallback's latency: Rasa down (refused connection) and circuit open;
* with ``--accuracy``: bench/nlu_bench.py against the same server (macro-F1, accuracy of both engines
  on the held-out split, in the same run).

    .venv/bin/python bench/rasa_bench.py [--accuracy] [--retrain]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from gridline.clock import FakeClock  # noqa: E402
from gridline.nlu.embedded import EmbeddedEngine, training_files  # noqa: E402
from gridline.nlu.rasa_client import RasaEngine  # noqa: E402
from gridline.nlu.rasa_runtime import RasaServer, free_port, train_rasa  # noqa: E402
from gridline.nlu.training_data import load_nlu_yaml  # noqa: E402
from gridline.nlu.types import NluResult  # noqa: E402
from gridline.settings import NluSettings, Settings, load_settings  # noqa: E402


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return {
        "n": len(ordered),
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p99_ms": round(p99 * 1000, 2),
        "max_ms": round(ordered[-1] * 1000, 2),
    }


async def latency(parse: Callable[[str], Awaitable[NluResult]], texts: list[str]) -> tuple[dict[str, float], int]:
    """Percentiles of ``parse`` over ``texts``, and how many answers were fallbacks."""
    samples, fallbacks = [], 0
    for text in texts:
        started = time.perf_counter()
        result = await parse(text)
        samples.append(time.perf_counter() - started)
        fallbacks += bool(result.note and result.note.startswith("fallback"))
    return percentiles(samples), fallbacks


def settings_for(url: str, token: str, timeout: float) -> Settings:
    return load_settings(nlu=NluSettings(engine="rasa", rasa_url=url, rasa_token=token, rasa_timeout_seconds=timeout))


async def measure(args: argparse.Namespace) -> dict[str, Any]:
    data = Path(args.train)
    started = time.perf_counter()
    model = train_rasa(load_settings(nlu=NluSettings(training_data=str(data))), force=args.retrain)
    setup_seconds = time.perf_counter() - started
    meta_path = model.with_suffix("").with_suffix(".json")
    meta = json.loads(meta_path.read_text()) if meta_path.is_file() else {}
    out: dict[str, Any] = {
        "model": model.name,
        "model_mb": round(model.stat().st_size / 1e6, 1),
        "train_seconds": meta.get("train_seconds"),
        "setup_seconds_this_run": round(setup_seconds, 1),
        "retrained": args.retrain,
    }

    heldout = [ex.text for ex in load_nlu_yaml(args.heldout).examples]
    embedded = EmbeddedEngine.fit(load_nlu_yaml(training_files(data)))
    with RasaServer(model) as server:
        out["server_start_seconds"] = round(server.startup_seconds or 0.0, 1)
        started = time.perf_counter()
        httpx.post(f"{server.url}/model/parse", params={"token": server.token}, json={"text": "你好"}, timeout=120)
        out["first_parse_seconds"] = round(time.perf_counter() - started, 2)

        rasa = RasaEngine(settings_for(server.url, server.token, args.timeout), fallback=embedded, clock=FakeClock())
        for text in heldout[:20]:
            await rasa.parse(text)
        rasa_latency, fallbacks = await latency(rasa.parse, heldout)
        await rasa.aclose()
        out["parse_latency_rasa"] = {**rasa_latency, "fallbacks": fallbacks}
        out["parse_latency_embedded"] = (await latency(embedded.parse, heldout))[0]

        if args.accuracy:
            command = [sys.executable, str(REPO / "bench" / "nlu_bench.py"), "--train", str(data)]
            command += ["--heldout", args.heldout, "--rasa-url", server.url, "--rasa-token", server.token]
            done = subprocess.run(command, capture_output=True, text=True, check=True, cwd=REPO)
            bench = json.loads(done.stdout)
            keep = ("macro_f1", "accuracy", "weighted_f1", "entity_micro_f1", "latency_ms")
            out["accuracy"] = {
                "heldout_examples": bench["heldout"]["examples"],
                "rasa": {k: bench["rasa"][k] for k in keep},
                "embedded": {k: bench["embedded"][k] for k in keep},
                "embedded_vs_rasa": bench["embedded_vs_rasa"],
            }

    down = RasaEngine(settings_for(f"http://127.0.0.1:{free_port()}", "t", args.timeout), embedded, clock=FakeClock())
    out["fallback_latency_rasa_down"] = (await latency(down.parse, heldout[:3]))[0]
    out["fallback_latency_circuit_open"] = (await latency(down.parse, heldout))[0]
    await down.aclose()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train", default=str(REPO / "config" / "nlu" / "train.yml"))
    parser.add_argument("--heldout", default=str(REPO / "config" / "nlu" / "heldout.yml"))
    parser.add_argument("--timeout", type=float, default=2.0, help="Gridline's nlu.rasa_timeout_seconds")
    parser.add_argument("--retrain", action="store_true", help="train again and time it")
    parser.add_argument("--accuracy", action="store_true", help="also run bench/nlu_bench.py against the server")
    print(json.dumps(asyncio.run(measure(parser.parse_args())), ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
