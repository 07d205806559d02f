"""Escalation timer lateness: 10,000 pending steps coming due over a short window.

``--steps`` escalation steps (one per case) are stored with due times spread evenly over
``--window`` seconds, starting ``--lead`` seconds after the run begins, and queued the way
``schedule_step`` queues them (a deferred job per step). Then the job runner of the mode runs them:
``embedded`` (SQLite, the in-process scheduler) or ``postgres+redis`` (an arq worker plus the
reconcile loop in this process, as ``gridline worker`` runs them). Lateness of a step is the time it
was run (``EscalationStep.done_at``, stamped when the step is claimed) minus its ``due_at``.

The cases are already acknowledged, so each step does the timer's work — wake up, claim the row
with a conditional UPDATE, read the case, record the outcome — and not the paging, whose cost
``report_to_page_bench.py`` measures. A lateness that grows through the window means the runner
cannot keep up with that many steps per second; ``steps_per_s_needed`` says how many that is.

``--topology processes`` (the default for the PostgreSQL modes): the steps are stored and queued
from this process through ``services.jobs`` — whatever queue the mode uses — and run by one real
``gridline worker`` process (through ``instrumented.py``, which also reports its event-loop lag).
Embedded mode always runs in-process: there the scheduler lives in the one Gridline process, which
this benchmark's process then is.

Baseline, in the same run: an empty timer — one ``asyncio.sleep`` per step until the same due
times (shifted to start after the same lead) — i.e. what the event loop alone costs.

    .venv/bin/python bench/escalation_lateness_bench.py [--steps 10000] [--window 20] [--lead 30] [--measure S]
        [--modes embedded,postgres] [--topology processes|in-process]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import secrets
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_support import build, demo_databases, job_runner, machine, percentiles
from sqlalchemy import insert
from sqlmodel import col, select

from gridline.storage.models import Case, EscalationStep

POLICY = {"priority": "normal", "repeat": 0, "steps": [{"notify": ["on_duty_leader"], "wait_minutes": 15}]}


def _offsets(steps: int, window: float) -> list[float]:
    return [window * i / max(1, steps - 1) for i in range(steps)]


def store_steps(services: Any, due_times: list[datetime]) -> list[tuple[int, datetime]]:
    """One acknowledged case per due time, each with one pending step; returns (step id, due_at)."""
    now = services.clock.now()
    refs = [f"B{secrets.token_hex(5).upper()}"[:12] for _ in due_times]
    with services.db.session() as session:
        session.execute(insert(Case), [
            {"ref": ref, "grid_code": None, "category": "road_facility", "priority": "normal",
             "status": "acknowledged", "channel": "sms", "summary": "bench", "explanation": [], "policy": POLICY,
             "report_count": 1, "created_at": now, "updated_at": now, "acknowledged_at": now}
            for ref in refs
        ])
        ids = dict(session.exec(select(Case.ref, Case.id).where(col(Case.ref).in_(refs))).all())
        session.execute(insert(EscalationStep), [
            {"case_id": ids[ref], "round": 0, "step_index": 0, "due_at": due, "status": "pending"}
            for ref, due in zip(refs, due_times, strict=True)
        ])
        rows = session.exec(select(EscalationStep.id, EscalationStep.due_at).where(
            col(EscalationStep.case_id).in_(list(ids.values())))).all()
    return [(int(step_id), due) for step_id, due in rows]


def lateness_from_rows(services: Any, until: datetime) -> tuple[list[float], dict[str, int]]:
    """Lateness of the steps due by ``until``; statuses of those steps ("pending" = never run)."""
    with services.db.session() as session:
        rows = session.exec(select(EscalationStep.due_at, EscalationStep.done_at, EscalationStep.status)
                            .where(col(EscalationStep.due_at) <= until)).all()
    statuses: dict[str, int] = {}
    late = []
    for due_at, done_at, status in rows:
        statuses[status] = statuses.get(status, 0) + 1
        if done_at is not None:
            late.append((done_at - due_at).total_seconds())
    return late, statuses


def pending_due_by(services: Any, until: datetime) -> bool:
    with services.db.session() as session:
        return session.exec(select(EscalationStep.id).where(
            EscalationStep.status == "pending", col(EscalationStep.due_at) <= until).limit(1)).first() is not None


async def measure_mode(
    mode: str, databases: Any, steps: int, window: float, lead: float, measure: float, arq_max_jobs: int | None,
    topology: str = "in-process",
) -> dict[str, Any]:
    url = databases.new("embedded" if mode == "embedded" else "postgres")
    if topology == "processes" and mode != "embedded":
        return await measure_with_worker_process(mode, url, steps, window, lead, measure)
    services = build(mode, url)
    try:
        t0 = services.clock.now() + timedelta(seconds=lead)
        due_times = [t0 + timedelta(seconds=o) for o in _offsets(steps, window)]
        started = time.perf_counter()
        stored = store_steps(services, due_times)
        stored_s = time.perf_counter() - started
        started = time.perf_counter()
        for step_id, due in stored:  # what schedule_step does after its transaction commits
            await services.jobs.enqueue("run_escalation_step", f"step:{step_id}", due, step_id=step_id)
        queued_s = time.perf_counter() - started
        ready_before_first_due = services.clock.now() < t0
        until = t0 + timedelta(seconds=measure)
        async with job_runner(services, arq_max_jobs=arq_max_jobs):
            deadline = time.monotonic() + lead + measure + 600
            while time.monotonic() < deadline:
                await asyncio.sleep(0.5)
                if services.clock.now() > until and not pending_due_by(services, until):
                    break
        late, statuses = lateness_from_rows(services, until)
    finally:
        await services.aclose()
    last_ten = late and sorted(late)[-max(1, len(late) // 10):]
    return {
        "steps": steps, "measured_steps_due_in_first_s": measure, "statuses_of_measured": statuses,
        "store_s": round(stored_s, 2), "queue_s": round(queued_s, 2),
        "queued_before_first_due": ready_before_first_due,
        "lateness": percentiles(late),
        "slowest_tenth_min_ms": round(min(last_ten) * 1000, 1) if last_ten else None,
    }


async def measure_with_worker_process(
    mode: str, url: str, steps: int, window: float, lead: float, measure: float
) -> dict[str, Any]:
    """Store and queue from here; one ``gridline worker`` process runs the steps."""
    import processes
    from report_to_page_processes import lag_in, read_samples

    services = build(mode, url)
    with processes.Run() as r:
        try:
            t0 = services.clock.now() + timedelta(seconds=lead)
            due_times = [t0 + timedelta(seconds=o) for o in _offsets(steps, window)]
            started = time.perf_counter()
            stored = store_steps(services, due_times)
            stored_s = time.perf_counter() - started
            started = time.perf_counter()
            for step_id, due in stored:  # what schedule_step does after its transaction commits
                await services.jobs.enqueue("run_escalation_step", f"step:{step_id}", due, step_id=step_id)
            queued_s = time.perf_counter() - started
            config = r.config(mode, url, flush_redis=False)  # Redis holds the jobs just queued
            samples = r.dir / "worker.jsonl"
            worker = r.gridline("worker", ["worker"], config, instrument=samples)
            if not processes.worker_stays_up(worker, 5):
                return {"error": "gridline worker did not stay up: " + r.log_tail("worker", 3)}
            ready_before_first_due = services.clock.now() < t0
            until = t0 + timedelta(seconds=measure)
            deadline = time.monotonic() + lead + measure + 600
            while time.monotonic() < deadline:
                await asyncio.sleep(0.5)
                if services.clock.now() > until and not pending_due_by(services, until):
                    break
            late, statuses = lateness_from_rows(services, until)
            lag = read_samples(samples)["lag"]
            stop = r.stop(worker)
        finally:
            await services.aclose()
    first_due = t0.timestamp()
    last_ten = late and sorted(late)[-max(1, len(late) // 10):]
    return {
        "topology": "one gridline worker process", "steps": steps, "measured_steps_due_in_first_s": measure,
        "statuses_of_measured": statuses, "store_s": round(stored_s, 2), "queue_s": round(queued_s, 2),
        "queued_before_first_due": ready_before_first_due,
        "lateness": percentiles(late),
        "slowest_tenth_min_ms": round(min(last_ten) * 1000, 1) if last_ten else None,
        "worker_event_loop_lag": lag_in(lag, first_due, first_due + measure),
        "worker_stop": stop,
    }


async def sleep_baseline(steps: int, window: float, lead: float, measure: float) -> dict[str, Any]:
    """The same due times (up to ``measure``), each waited for by an empty asyncio.sleep task."""
    t0 = time.time() + lead
    due = [t0 + o for o in _offsets(steps, window) if o <= measure]
    late: list[float] = []

    async def timer(at: float) -> None:
        await asyncio.sleep(max(0.0, at - time.time()))
        late.append(time.time() - at)

    await asyncio.gather(*(timer(at) for at in due))
    return {"timers": len(due), "lateness": percentiles(late)}


async def main() -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=10_000)
    parser.add_argument("--window", type=float, default=20.0, help="seconds over which the steps come due")
    parser.add_argument("--lead", type=float, default=30.0, help="seconds before the first step is due")
    parser.add_argument("--measure", type=float, default=None,
                        help="measure only the steps due in the first MEASURE seconds of the window (the rest "
                             "stay pending: a full timer at a rate the runner can keep up with); default: all")
    parser.add_argument("--modes", default="embedded,postgres")
    parser.add_argument("--topology", choices=("processes", "in-process"), default="processes",
                        help="PostgreSQL modes: a real gridline worker process (default) or the runner in-process")
    parser.add_argument("--arq-max-jobs", type=int, default=None,
                        help="override the arq worker's max_jobs (default: the core's, 10)")
    args = parser.parse_args()
    measure = args.window if args.measure is None else min(args.measure, args.window)
    logging.basicConfig(level=logging.WARNING)
    out: dict[str, Any] = {
        "benchmark": "escalation_lateness",
        "what": "run time (EscalationStep.done_at) minus due_at for steps of acknowledged cases "
                "(timer + claim + cancel; no paging)",
        "baseline": "empty asyncio.sleep timer per step for the same due times, same process, same run",
        "steps": args.steps, "window_s": args.window, "lead_s": args.lead, "measured_first_s": measure,
        "arq_max_jobs": args.arq_max_jobs or "core default (10)",
        "steps_per_s_needed": round(args.steps / args.window, 1) if args.window else None,
        "started_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "baseline_asyncio_sleep": await sleep_baseline(args.steps, args.window, min(args.lead, 2.0), measure),
        "modes": {},
    }
    with demo_databases() as databases:
        for mode in args.modes.split(","):
            started = time.perf_counter()
            try:
                out["modes"][mode] = await measure_mode(
                    mode, databases, args.steps, args.window, args.lead, measure, args.arq_max_jobs, args.topology)
            except Exception as exc:  # one broken mode must not hide the others' figures
                out["modes"][mode] = {"error": f"{type(exc).__name__}: {exc}"[:3000]}
            out["modes"][mode]["wall_s"] = round(time.perf_counter() - started, 1)
    return out


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main()), ensure_ascii=False, indent=2))
