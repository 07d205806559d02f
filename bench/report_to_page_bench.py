"""Report → page handed to the notifier: latency at a fixed arrival rate, embedded and PostgreSQL.

Two topologies:

``--topology processes`` (the default; ``report_to_page_processes.py``): Gridline as it is deployed —
one ``gridline serve`` and, where the mode has one, one ``gridline worker`` process; reports arrive
as signed SMS webhooks from an open-loop client; the figure includes the webhook, the durable inbox,
the processing job, the escalation step and the page job. It also reports the event-loop lag of
both processes under the load, SQL statements per report, and (``--find-max``) the highest rate at
which p99 stays below 1 s. Baseline: the same client and schedule against a bare FastAPI endpoint.
Modes: ``embedded``, ``postgres``, ``postgres+redis``. ``--serve-runs-jobs`` (PostgreSQL): serve takes
jobs from the queue beside the worker (``jobs.run_in_serve``), so the two processes share the jobs'
CPU — the single-machine deployment of docs/operations.md with a worker added.

``--topology in-process`` (the original benchmark, described below): everything in this process.

Residents of the demo city text held-out sentences (``config/nlu/heldout.yml``) at ``--rate`` reports
per second for ``--seconds`` (open loop: a report is sent at its scheduled time whether or not the
previous one has been handled, and latency is counted from that scheduled time, so queueing shows).
Each report goes through ``handle_inbound`` (identity, NLU, case, first escalation step); the jobs
run the step and hand the page to a timing notifier registered for every channel. The figure is
the time from the report to the *first* page of its case reaching the notifier.

Modes: ``embedded`` (SQLite, the in-process scheduler started with ``services.jobs.start_in_process``)
and ``postgres+redis`` (an arq worker and the reconcile loop running in this process, as
``gridline worker`` runs them).

Baseline, measured in the same run on a fresh database for each mode: the same reports on the same
schedule through ``handle_inbound`` alone, with no job runner — report stored, understood, case
opened and its first step queued. The difference is what the queue and the paging add.

To page every report: duplicate joining is off (``duplicate_window_minutes = 0``), the per-sender
rate limit is lifted and ``nlu.confidence_threshold = 0`` (no category question first).

    .venv/bin/python bench/report_to_page_bench.py [--rate 100] [--seconds 60] [--modes embedded,postgres]
    .venv/bin/python bench/report_to_page_bench.py --find-max --ladder 25,50,100,150,200 --seconds 20
    .venv/bin/python bench/report_to_page_bench.py --find-max --modes postgres --serve-runs-jobs
    .venv/bin/python bench/report_to_page_bench.py --topology in-process --rate 100 --seconds 10
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import re
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_support import ROOT, build, demo_databases, job_runner, machine, percentiles

from gridline.core.conversation import handle_inbound
from gridline.kernel.messages import InboundMessage
from gridline.kernel.notify import Delivery, MessageNotice, PageNotice, PageUpdate

OVERRIDES: dict[str, Any] = {
    "cases": {"duplicate_window_minutes": 0, "max_messages_per_minute": 1_000_000},
    "nlu": {"confidence_threshold": 0.0},
}
ANNOTATION = re.compile(r"\[([^\]]+)\]\([^)]*\)")


def heldout_texts() -> list[str]:
    texts = []
    for line in (ROOT / "config" / "nlu" / "heldout.yml").read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line.startswith("- ") and not line.startswith("- intent:"):
            texts.append(ANNOTATION.sub(r"\1", line[2:]).strip())
    return [t for t in texts if t]


@dataclass
class TimingNotifier:
    """Notes when the first page of each case arrives; answers every page and message "delivered"."""

    channel: str
    first_page: dict[str, float]
    pages: list[int] = field(default_factory=list)

    async def send_page(self, notice: PageNotice) -> Delivery:
        self.first_page.setdefault(notice.case_ref, time.perf_counter())
        self.pages.append(notice.page_id)
        return Delivery("delivered", provider_message_id=f"bench-p{notice.page_id}")

    async def send_message(self, notice: MessageNotice) -> Delivery:
        return Delivery("delivered", provider_message_id=f"bench-m{notice.message_id}")

    async def update_page(self, update: PageUpdate) -> None:
        return None


def residents(services: Any) -> list[str]:
    from sqlmodel import col, select

    from gridline.storage.models import Resident

    with services.db.session() as session:
        return [p for p in session.exec(select(Resident.phone).where(col(Resident.phone).is_not(None))) if p]


async def drive(services: Any, rate: float, seconds: float, texts: list[str],
                first_page: dict[str, float], *, wait_for_pages: float) -> dict[str, Any]:
    """Send the reports on schedule; returns handle_inbound latencies and report→page latencies."""
    senders = residents(services)
    count = int(rate * seconds)
    refs: dict[int, str | None] = {}
    accepted: list[float] = []
    done_at: list[float] = []
    scheduled: dict[int, float] = {}
    errors: list[str] = []

    async def one(i: int, at: float) -> None:
        msg = InboundMessage(channel="sms", external_id=senders[i % len(senders)], text=texts[i % len(texts)],
                             provider_message_id=f"bench-{i}")
        try:
            outcome = await handle_inbound(services, msg)
        except Exception as exc:  # counted, not fatal: the figure says how many reports failed
            errors.append(f"{type(exc).__name__}: {exc}"[:200])
            return
        done_at.append(time.perf_counter())
        accepted.append(done_at[-1] - at)
        refs[i] = outcome.case_ref

    start = time.perf_counter() + 0.2
    tasks = []
    for i in range(count):
        at = start + i / rate
        delay = at - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        scheduled[i] = at
        tasks.append(asyncio.create_task(one(i, at)))
    await asyncio.gather(*tasks)
    sent_in = time.perf_counter() - start
    wanted = {ref for ref in refs.values() if ref}
    deadline = time.perf_counter() + wait_for_pages
    while wait_for_pages and time.perf_counter() < deadline and not wanted <= first_page.keys():
        await asyncio.sleep(0.05)
    first_report_of_case: dict[str, int] = {}
    for i in sorted(refs):
        ref = refs[i]
        if ref:
            first_report_of_case.setdefault(ref, i)
    to_page = [first_page[ref] - scheduled[i] for ref, i in first_report_of_case.items() if ref in first_page]
    handed = sorted(first_page.values())
    return {
        # When things happened, in seconds from the first report's scheduled time.
        "timeline_s": {
            "last_report_accepted": round(max(done_at) - start, 2) if done_at else None,
            "first_page": round(handed[0] - start, 2) if handed else None,
            "median_page": round(handed[len(handed) // 2] - start, 2) if handed else None,
            "last_page": round(handed[-1] - start, 2) if handed else None,
        },
        "reports": count,
        "achieved_rate_per_s": round(count / sent_in, 1) if sent_in > 0 else None,
        "handle_inbound_errors": len(errors),
        "error_samples": errors[:3],
        "cases_opened": len(wanted),
        "reports_without_case": sum(1 for r in refs.values() if not r),
        "report_accepted": percentiles(accepted),
        "report_to_first_page": percentiles(to_page) if wait_for_pages else None,
        "cases_never_paged": len(wanted - first_page.keys()) if wait_for_pages else None,
    }


async def measure(backend: str, databases: Any, rate: float, seconds: float, texts: list[str]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    # Baseline: handle_inbound alone on the same schedule (no job runner, nothing is paged).
    services = build(backend, databases.new("embedded" if backend == "embedded" else "postgres"), **OVERRIDES)
    try:
        baseline = await drive(services, rate, seconds, texts, {}, wait_for_pages=0)
    finally:
        await services.aclose()
    result["baseline_handle_inbound_alone"] = {
        k: baseline[k] for k in ("reports", "achieved_rate_per_s", "handle_inbound_errors", "cases_opened",
                                 "report_accepted", "timeline_s")
    }

    services = build(backend, databases.new("embedded" if backend == "embedded" else "postgres"), **OVERRIDES)
    first_page: dict[str, float] = {}
    notifiers = [TimingNotifier(c, first_page) for c in ("telegram", "sms", "voice", "web")]
    for notifier in notifiers:
        services.notifiers.register(notifier)
    try:
        async with job_runner(services):
            full = await drive(services, rate, seconds, texts, first_page, wait_for_pages=120)
    finally:
        await services.aclose()
    full["pages_handed_to_notifier"] = sum(len(n.pages) for n in notifiers)
    result["with_jobs"] = full
    return result


async def main_processes(args: argparse.Namespace) -> dict[str, Any]:
    import processes
    from report_to_page_processes import highest_rate
    from report_to_page_processes import measure as measure_processes

    texts = heldout_texts()
    overrides = {**OVERRIDES, "jobs": {"run_in_serve": True}} if args.serve_runs_jobs else OVERRIDES
    out: dict[str, Any] = {
        "benchmark": "report_to_page", "topology": "processes",
        "what": "time from a resident's SMS webhook (its scheduled send) to the first page of its case handed to "
                "the notifier, one gridline serve + one gridline worker process; open loop at a fixed rate",
        "baseline": "the same client and schedule against a bare FastAPI endpoint parsing the same form "
                    "(bench/bare_app.py), same run",
        "rate_per_s": args.rate, "seconds": args.seconds, "distinct_texts": len(texts), "settings": overrides,
        "started_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(), "modes": {},
    }
    with demo_databases() as databases, processes.Run(fake_port=processes.RTP_FAKE_PORT) as r:
        r.start("fake", [processes.PYTHON, str(processes.BENCH / "fake_providers.py"),
                         "--port", str(processes.RTP_FAKE_PORT)])
        for mode in args.modes.split(","):
            started = time.perf_counter()
            template = databases.template("embedded" if mode == "embedded" else "postgres")
            try:
                if args.find_max:
                    rates = [float(x) for x in args.ladder.split(",")]
                    out["modes"][mode] = await highest_rate(r, mode, template, rates, args.seconds, texts, overrides)
                else:
                    out["modes"][mode] = await measure_processes(r, mode, template, args.rate, args.seconds, texts,
                                                                 overrides)
            except Exception as exc:  # one broken mode must not hide the others' figures
                out["modes"][mode] = {"error": f"{type(exc).__name__}: {exc}"[:3000]}
            out["modes"][mode]["wall_s"] = round(time.perf_counter() - started, 1)
    return out


async def main() -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--topology", choices=("processes", "in-process"), default="processes")
    parser.add_argument("--rate", type=float, default=100.0, help="reports per second")
    parser.add_argument("--seconds", type=float, default=None, help="default: 60 (processes), 10 (in-process)")
    parser.add_argument("--modes", default=None, help="default: embedded,postgres (processes), "
                                                       "embedded,postgres+redis (in-process)")
    parser.add_argument("--find-max", action="store_true", help="processes: the highest rate with p99 < 1 s")
    parser.add_argument("--ladder", default="25,50,100,150,200", help="the rates --find-max tries, ascending")
    parser.add_argument("--serve-runs-jobs", action="store_true",
                        help="processes, PostgreSQL: jobs.run_in_serve, so serve takes jobs from the queue "
                             "beside the worker (two processes share the jobs' CPU)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("arq").setLevel(logging.WARNING)
    if args.topology == "processes":
        args.seconds = 60.0 if args.seconds is None else args.seconds
        args.modes = args.modes or "embedded,postgres"
        return await main_processes(args)
    args.seconds = 10.0 if args.seconds is None else args.seconds
    args.modes = args.modes or "embedded,postgres+redis"
    texts = heldout_texts()
    out: dict[str, Any] = {
        "benchmark": "report_to_page",
        "what": "time from a resident's report (its scheduled arrival) to the first page of its case handed "
                "to the notifier; open loop at a fixed rate",
        "baseline": "handle_inbound alone on the same schedule, no job runner (report stored, NLU, case "
                    "opened, first step queued), fresh database, same run",
        "rate_per_s": args.rate, "seconds": args.seconds, "distinct_texts": len(texts),
        "settings": OVERRIDES,
        "machine": machine(),
        "modes": {},
    }
    with demo_databases() as databases:
        for mode in args.modes.split(","):
            started = time.perf_counter()
            out["modes"][mode] = await measure(mode, databases, args.rate, args.seconds, texts)
            out["modes"][mode]["wall_s"] = round(time.perf_counter() - started, 1)
    return out


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main()), ensure_ascii=False, indent=2))
