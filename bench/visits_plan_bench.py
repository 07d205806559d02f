"""走千家 planning: how long the engine's visits sweep takes to give N households their first visit.

A demo city on SQLite with N synthetic households spread over the demo's base grids; the sweep's
``plan_visits`` is timed in batches of ``routing.visits.PLAN_BATCH`` (what one sweep a minute plans)
and against a plain bulk insert of the same N visit rows (the baseline: no cadence, no assignee, no
events, no jobs). Prints JSON.

    PYTHONPATH=$PWD python bench/visits_plan_bench.py --households 10000
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert
from sqlmodel import select

from bench.bench_support import machine
from gridline.clock import FakeClock
from gridline.demo import load_demo
from gridline.kernel.work import Work
from gridline.routing.visits import PLAN_BATCH, plan_visits
from gridline.settings import Settings
from gridline.storage.db import Database
from gridline.storage.models import Grid, Household, Visit

NOW = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)
TAGS = ([], ["elderly_alone"], ["hardship"], ["very_old", "disabled"], ["elderly_alone", "hardship"])


def city(path: Path, households: int) -> tuple[Database, Settings]:
    url = f"sqlite:///{path}"
    settings = Settings(database={"url": url})
    db = Database(url)
    load_demo(db, settings, now=NOW)
    with db.session() as session:
        grids = [g.code for g in session.exec(select(Grid).where(Grid.level == 3))]
        rows = [
            {"grid_code": grids[i % len(grids)], "building": str(100 + i // 1000), "unit": str(i % 7),
             "room": str(i), "tags": TAGS[i % len(TAGS)], "created_at": NOW, "updated_at": NOW,
             "consent_checkin": False, "consent_family": False, "lang": "zh-CN"}
            for i in range(households)
        ]  # fmt: skip
        session.execute(insert(Household), rows)
    return db, settings


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--households", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db, settings = city(Path(tmp) / "plan.db", args.households)
        clock = FakeClock(NOW)
        with db.session() as session:
            total = len(list(session.exec(select(Household.id))))
        batches: list[float] = []
        jobs = 0
        while True:
            started = time.perf_counter()
            with db.session() as session:
                work = Work(session=session, now=clock.now())
                planned = plan_visits(work, settings)
                jobs += len(work.jobs)
            batches.append(time.perf_counter() - started)
            if planned == 0:
                batches.pop()
                break
        with db.session() as session:
            visits = len(list(session.exec(select(Visit.id))))
            household_ids = list(session.exec(select(Household.id)))
        db.dispose()

        baseline_db, _ = city(Path(tmp) / "baseline.db", args.households)
        started = time.perf_counter()
        with baseline_db.session() as session:
            session.execute(insert(Visit), [
                {"household_id": hid, "grid_code": "x", "status": "due", "reason": "cadence", "due_at": NOW,
                 "created_at": NOW, "updated_at": NOW, "next_at": NOW, "step": 0} for hid in household_ids
            ])  # fmt: skip
        baseline = time.perf_counter() - started
        baseline_db.dispose()
    planned_s = sum(batches)
    print(json.dumps({
        "households": total, "visits_planned": visits, "jobs_queued": jobs, "batch_size": PLAN_BATCH,
        "batches": len(batches), "plan_total_s": round(planned_s, 3),
        "plan_per_batch_s": {"max": round(max(batches), 3), "min": round(min(batches), 3)},
        "minutes_until_all_planned_at_one_sweep_a_minute": len(batches),
        "baseline_bulk_insert_s": round(baseline, 3), "ratio_to_baseline": round(planned_s / baseline, 1),
        "machine": machine(),
    }, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
