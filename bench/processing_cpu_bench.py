"""CPU time of processing one stored SMS report, up to its case filed and its reply queued.

What ``gridline worker`` spends in ``core.inbox.process_inbound`` for a report, without what comes
after the case (the escalation step, the page, the reply's delivery: those jobs are queued, not
run). The demo city's residents text held-out sentences; the events are stored first (as the
webhook stores them), then processed one after another in this process, and the process CPU time
(all threads) of processing them is divided by their number. The first ``--warmup`` reports are
processed before the clock starts (imports, the NLU model, caches).

``--nlu cached``: each sentence is understood once before the clock starts and the NLU answers
from that memo while measured: the figure is the processing without the NLU's parse (which
``--nlu live``, the default, includes). ``--profile PATH`` saves a yappi profile (CPU clock) of the
measured part as pstat.

    .venv/bin/python bench/processing_cpu_bench.py [--reports 300] [--modes embedded,postgres] [--nlu cached]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_support import build, demo_databases, machine
from report_to_page_bench import OVERRIDES, heldout_texts
from sqlalchemy import event


def _store(services: Any, count: int, prefix: str, senders: list[str], texts: list[str]) -> list[int]:
    from gridline.clock import SystemClock
    from gridline.storage import inbox

    arrivals = []
    for i in range(count):
        sid = f"{prefix}{i:08d}"
        arrivals.append(("twilio:sms", sid, {"MessageSid": sid, "SmsSid": sid, "AccountSid": "AC" + "b" * 32,
                                             "From": senders[i % len(senders)], "To": "+8610000000001",
                                             "Body": texts[i % len(texts)], "NumMedia": "0"}))
    with services.db.session() as session:
        stored = inbox.store_once(session, arrivals, SystemClock().now())
        # (id, is_new) receipts; (event, is_new) before the SQLite batch was one driver statement
        ids = [e if isinstance(e, int) else int(e.id or 0) for e, _new in stored]
        session.commit()
    return ids


async def measure(backend: str, url: str, reports: int, warmup: int, nlu: str, profile: str | None) -> dict[str, Any]:
    from gridline.composition import install_channels
    from gridline.core.inbox import process_inbound

    services = build(backend, url, **OVERRIDES)
    install_channels(services)
    try:
        with services.db.session() as session:
            from sqlmodel import col, select

            from gridline.storage.models import Resident
            senders = [p for p in session.exec(select(Resident.phone).where(col(Resident.phone).is_not(None))) if p]
        random.Random(7).shuffle(senders)
        texts = heldout_texts()
        if nlu == "cached":
            memo: dict[str, Any] = {}
            parse = services.nlu.parse
            for text in texts:
                memo[text.strip()] = await parse(text.strip())

            async def cached(text: str) -> Any:
                found = memo.get(text)
                return found if found is not None else await parse(text)

            services.nlu.parse = cached
        ids = _store(services, warmup + reports, f"SMcpu{backend[:2]}", senders, texts)
        statements = [0]

        def counted(*_args: Any) -> None:
            statements[0] += 1

        for i in ids[:warmup]:
            await process_inbound(services, i)
        engine = services.db.engine
        event.listen(engine, "before_cursor_execute", counted)
        if profile:
            import yappi
            yappi.set_clock_type("cpu")
            yappi.start()
        cpu, wall = time.process_time(), time.perf_counter()
        results: dict[str, int] = {}
        for i in ids[warmup:]:
            result = await process_inbound(services, i)
            results[result] = results.get(result, 0) + 1
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        if profile:
            yappi.stop()
            yappi.get_func_stats().save(f"{profile}.{backend}.pstat", type="pstat")
        event.remove(engine, "before_cursor_execute", counted)
        return {"reports": reports, "results": results, "cpu_ms_per_report": round(cpu * 1000 / reports, 2),
                "wall_ms_per_report": round(wall * 1000 / reports, 2),
                "statements_per_report": round(statements[0] / reports, 2)}
    finally:
        await services.aclose()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reports", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=40)
    parser.add_argument("--modes", default="embedded,postgres")
    parser.add_argument("--nlu", choices=("live", "cached"), default="live")
    parser.add_argument("--profile", default=None, help="save a yappi profile to PATH.<mode>.pstat")
    args = parser.parse_args()
    out: dict[str, Any] = {"benchmark": "processing_cpu", "machine": machine(), "nlu": args.nlu, "modes": {}}
    with demo_databases() as databases:
        for mode in args.modes.split(","):
            backend = "embedded" if mode == "embedded" else "postgres"
            out["modes"][mode] = await measure(backend, databases.new(backend), args.reports, args.warmup,
                                               args.nlu, args.profile)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
