"""A sweep of 10,000 households across 50 grids: the time to queue it and to hand every question to
the notifiers, the rows and statements it writes and the memory it takes, against a plain bulk
insert of the same rows (and the notifier called directly for the same questions) in the same run.

    .venv/bin/python bench/sweep_bench.py                         # SQLite (embedded)
    .venv/bin/python bench/sweep_bench.py --modes embedded,postgres --households 10000 --grids 50

Phases, per mode, on a fresh copy of the demo city with the households added (not timed):

- ``queue``: ``routing.sweeps.start_sweep`` in one unit of work — the sweep, a check-in per household,
  its question as an outbound message row, its ``close`` timer and its event, the identities it was
  missing, and (PostgreSQL) the job rows, committed; then the jobs queued (in-process on SQLite);
- ``deliver``: the job queue runs until every question has been handed to a fast local notifier
  (claim, send, record: the durable outbox path);
- ``baseline_bulk_insert``: the same rows (read back from the sweep's database, ids dropped) bulk
  inserted into a fresh copy with ``storage.bulk.insert_rows``, one transaction;
- ``baseline_notifier_only``: the notifier called directly once per question (no database).

Memory: tracemalloc's peak of each phase (Python allocations), and the process's peak RSS.
Prints one JSON document.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_support import DemoDatabases, base_settings, machine

TABLES = ("sweeps", "checkins", "checkin_steps", "checkin_events", "messages", "channel_identities")


class FastNotifier:
    """Accepts every message at once (what a provider adapter hands back, minus the network)."""

    channel = "sms"

    def __init__(self) -> None:
        self.sent = 0
        self.done = asyncio.Event()
        self.expected = 0

    async def send_page(self, notice: Any) -> Any:
        from gridline.kernel.notify import Delivery

        return Delivery("sent", provider_message_id=f"p{notice.page_id}")

    async def send_message(self, notice: Any) -> Any:
        from gridline.kernel.notify import Delivery

        self.sent += 1
        if self.expected and self.sent >= self.expected:
            self.done.set()
        return Delivery("sent", provider_message_id=f"m{notice.message_id}")

    async def update_page(self, update: Any) -> None:
        return None


def add_households(url: str, households: int, grids: int) -> list[str]:
    """``households`` households with one member each (a phone), spread over ``grids`` grid codes."""
    from datetime import UTC, datetime

    from gridline.storage.bulk import insert_rows
    from gridline.storage.db import Database
    from gridline.storage.models import Household, HouseholdPerson

    db = Database(url)
    now = datetime.now(UTC)
    codes = [f"BENCH-{g + 1:02d}" for g in range(grids)]
    rows = [
        {"grid_code": codes[i % grids], "building": str(i // 1000 + 1), "unit": str(i // 100 % 10 + 1),
         "room": str(i % 100 + 101), "tags": ["elderly_alone"] if i % 3 == 0 else [], "consent_checkin": i % 2 == 0,
         "consent_family": False, "lang": "zh-CN", "created_at": now, "updated_at": now}
        for i in range(households)
    ]  # fmt: skip
    with db.session() as session:
        insert_rows(session, Household, rows)
        session.flush()
        from sqlmodel import col, select

        ids = list(session.exec(select(Household.id).where(col(Household.grid_code).in_(codes)).order_by(Household.id)))
        people = [
            {"household_id": hid, "kind": "member", "name": f"住户{n}", "phone": f"+8617{n:09d}", "position": 0,
             "checkin_days": []}
            for n, hid in enumerate(ids)
        ]  # fmt: skip
        insert_rows(session, HouseholdPerson, people)
    db.dispose()
    return codes


def counts(url: str) -> dict[str, int]:
    from sqlalchemy import text

    from gridline.storage.db import Database

    db = Database(url)
    with db.engine.connect() as connection:
        found = {t: int(connection.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()) for t in TABLES}
        if not db.is_sqlite:
            found["procrastinate_jobs"] = int(
                connection.execute(text("SELECT count(*) FROM procrastinate_jobs")).scalar_one()
            )
    db.dispose()
    return found


def rows_of(url: str, before: dict[str, int]) -> dict[str, list[dict[str, Any]]]:
    """The rows the sweep wrote (each table's rows after its count before), ids included, typed."""
    from sqlalchemy import select

    from gridline.storage.db import Database
    from gridline.storage.models import ChannelIdentity, CheckIn, CheckInEvent, CheckInStep, Message, Sweep

    models = {"sweeps": Sweep, "channel_identities": ChannelIdentity, "checkins": CheckIn, "messages": Message,
              "checkin_steps": CheckInStep, "checkin_events": CheckInEvent}  # fmt: skip
    db = Database(url)
    out: dict[str, list[dict[str, Any]]] = {}
    with db.engine.connect() as connection:
        for table in TABLES:
            columns = models[table].__table__  # type: ignore[attr-defined]
            result = connection.execute(select(columns).order_by(columns.c.id))
            out[table] = [dict(r._mapping) for r in result][before[table] :]
    db.dispose()
    return out


def baseline_insert(url: str, rows: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """The same rows bulk inserted (plain values, batches of 2,000, ``storage.bulk.insert_rows``) in one
    transaction into a copy built the same way, so every id and foreign key is free and valid."""
    from gridline.storage.bulk import insert_rows
    from gridline.storage.db import Database
    from gridline.storage.models import ChannelIdentity, CheckIn, CheckInEvent, CheckInStep, Message, Sweep
    from gridline.storage.statements import StatementCounter

    models = {"sweeps": Sweep, "channel_identities": ChannelIdentity, "checkins": CheckIn, "messages": Message,
              "checkin_steps": CheckInStep, "checkin_events": CheckInEvent}  # fmt: skip
    db = Database(url)
    started = time.perf_counter()
    with StatementCounter(db.engine) as counter, db.session() as session:
        for table in ("sweeps", "channel_identities", "checkins", "messages", "checkin_steps", "checkin_events"):
            insert_rows(session, models[table], rows[table])
    elapsed = time.perf_counter() - started
    db.dispose()
    return {"seconds": round(elapsed, 3), "rows": sum(len(v) for v in rows.values()), "statements": counter.count}


def rss_mb() -> float:
    """The process's resident set now (Linux /proc), in MB."""
    with open("/proc/self/statm") as fh:
        pages = int(fh.read().split()[1])
    return round(pages * resource.getpagesize() / 2**20, 1)


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


async def queue_sweep(services: Any, codes: list[str]) -> Any:
    from gridline.kernel.work import in_transaction
    from gridline.routing.sweeps import start_sweep

    return await in_transaction(
        services, start_sweep, services.settings, reason="cold_wave", grid_codes=codes, tags=[],
        started_by="bench", allowed_grids=set(codes),
    )  # fmt: skip


# Pacing (docs/broadcasts.md) would spread 10,000 texts over 10,000 s at Twilio's 1 SMS/s: lifted here
# so the figure is Gridline's own cost of handing the questions over, not the lane's rate.
UNPACED = {"sms_per_second": 1e6, "voice_per_second": 1e6, "telegram_per_second": 1e6, "late_seconds": 1e6}


async def run_mode(mode: str, databases: DemoDatabases, households: int, grids: int) -> dict[str, Any]:
    from gridline.composition import build_services
    from gridline.storage.statements import StatementCounter

    backend = "embedded" if mode == "embedded" else "postgres+redis"
    url = databases.new(backend)
    codes = add_households(url, households, grids)
    before = counts(url)
    services = build_services(base_settings(url, pacing=UNPACED))
    notifier = FastNotifier()
    services.notifiers.register(notifier)
    result: dict[str, Any] = {"mode": mode, "households": households, "grids": grids}
    try:
        rss_before = rss_mb()
        started = time.perf_counter()
        with StatementCounter(services.db.engine) as counter:
            sweep = await queue_sweep(services, codes)
        queued = time.perf_counter() - started
        rss_queued = rss_mb()
        after = counts(url)
        written = {t: after[t] - before.get(t, 0) for t in after}
        notifier.expected = sweep.questions
        started = time.perf_counter()
        # The job runner as deployed: in-process on SQLite (as ``gridline serve`` runs it), and on
        # PostgreSQL a worker in this process taking the job rows (as ``gridline worker``).
        await services.jobs.start_in_process(services.handlers)
        await asyncio.wait_for(notifier.done.wait(), timeout=3600)
        delivered = time.perf_counter() - started
        result["queue"] = {
            "seconds": round(queued, 3), "questions": sweep.questions, "rows_written": written,
            "rows_total": sum(written.values()), "statements": counter.count,
            "statements_by_kind": counter.summary(), "rss_growth_mb": round(rss_queued - rss_before, 1),
        }  # fmt: skip
        result["deliver"] = {
            "seconds": round(delivered, 3), "handed_to_notifier": notifier.sent,
            "per_second": round(notifier.sent / delivered, 1) if delivered else None,
            "rss_growth_mb": round(rss_mb() - rss_queued, 1),
        }  # fmt: skip
    finally:
        await services.aclose()
    rows = rows_of(url, before)
    # Python allocations of queuing, traced in a run of their own (tracemalloc slows everything it traces).
    traced_url = databases.new(backend)
    add_households(traced_url, households, grids)
    traced = build_services(base_settings(traced_url, pacing=UNPACED))
    try:
        tracemalloc.start()
        await queue_sweep(traced, codes)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        result["queue"]["tracemalloc_peak_mb"] = round(peak / 2**20, 1)
    finally:
        await traced.aclose()
    baseline_url = databases.new(backend)
    add_households(baseline_url, households, grids)
    result["baseline_bulk_insert"] = baseline_insert(baseline_url, rows)
    direct = FastNotifier()
    from gridline.kernel.notify import MessageNotice

    started = time.perf_counter()
    for n in range(households):
        await direct.send_message(MessageNotice(message_id=n, channel="sms", target=f"+8617{n:09d}", bot_name="",
                                                text="", lang="zh-CN"))  # fmt: skip
    result["baseline_notifier_only"] = {"seconds": round(time.perf_counter() - started, 4)}
    queue_s, base_s = result["queue"]["seconds"], result["baseline_bulk_insert"]["seconds"]
    result["queue_vs_bulk_insert"] = round(queue_s / base_s, 2) if base_s else None
    return result


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--households", type=int, default=10_000)
    parser.add_argument("--grids", type=int, default=50)
    parser.add_argument("--modes", default="embedded", help="embedded,postgres")
    args = parser.parse_args()
    report: dict[str, Any] = {"benchmark": "sweep", "machine": machine(), "runs": []}
    databases = DemoDatabases()
    try:
        for mode in [m.strip() for m in args.modes.split(",") if m.strip()]:
            report["runs"].append(await run_mode(mode, databases, args.households, args.grids))
    finally:
        databases.close()
    report["peak_rss_mb"] = peak_rss_mb()
    print(json.dumps(report, ensure_ascii=False, indent=2, default=str))


if __name__ == "__main__":
    asyncio.run(main())
