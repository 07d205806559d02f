"""Units of work: sync SQLAlchemy sessions in a thread pool (what Gridline does, ``Database.run``)
against SQLAlchemy's asyncio sessions (aiosqlite on SQLite, psycopg's async driver on PostgreSQL).

A *typical unit of work*, the same ORM code on both sides: add a row, flush (INSERT), select it
back by its key (SELECT), change it (UPDATE at commit), commit. ``--concurrency`` tasks each run
units back to back for ``--seconds``; both designs alternate (thread, asyncio, thread, asyncio) so
a change in the machine's load hits both alike. Figures: units per second, each unit's latency,
and the event loop's lag meanwhile (a 10-ms ticker on the same loop: how late it wakes), which is
what every webhook and timer in the same process would feel.

- **thread**: ``gridline.storage.db.Database`` — its engine, SQLite pragmas and worker threads;
  the unit is plain blocking code run by ``Database.run`` (one hop to a thread per unit).
- **asyncio**: ``create_async_engine`` with the same pool size and pragmas, ``AsyncSession``; each
  statement is awaited (aiosqlite hops to its connection's thread per call; SQLAlchemy's asyncio
  layer switches greenlets per statement).

    .venv/bin/python bench/uow_bench.py [--seconds 4] [--rounds 2] [--concurrency 1,16] [--modes embedded,postgres]

Needs ``aiosqlite`` (``pip install aiosqlite``; the ``bench`` extra) and PostgreSQL on 127.0.0.1:5432.
Databases: a temporary SQLite file and ``bench_uow_*`` on PostgreSQL, dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_support import machine, percentiles, pg_admin, pg_url
from sqlalchemy import String, event, select
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

THREADS = 12  # gridline's default database.threads (and pool size)


class Base(DeclarativeBase):
    pass


class Item(Base):
    __tablename__ = "uow_items"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    body: Mapped[str] = mapped_column(String(2000))
    counter: Mapped[int]


_keys = itertools.count()


def _key() -> str:
    return f"k{next(_keys)}-{uuid.uuid4().hex[:8]}"


def sync_unit(session: Session) -> None:
    key = _key()
    session.add(Item(key=key, body="x" * 200, counter=0))
    session.flush()
    item = session.execute(select(Item).where(Item.key == key)).scalar_one()
    item.counter += 1


async def async_unit(session: AsyncSession) -> None:
    key = _key()
    session.add(Item(key=key, body="x" * 200, counter=0))
    await session.flush()
    item = (await session.execute(select(Item).where(Item.key == key))).scalar_one()
    item.counter += 1


async def watch_lag(samples: list[float], stop: asyncio.Event) -> None:
    while not stop.is_set():
        before = time.perf_counter()
        await asyncio.sleep(0.010)
        samples.append(max(0.0, time.perf_counter() - before - 0.010))


async def drive(unit: Any, concurrency: int, seconds: float) -> dict[str, Any]:
    """``concurrency`` tasks running ``unit()`` back to back for ``seconds``; lag measured meanwhile."""
    latencies: list[float] = []
    lag: list[float] = []
    errors: list[str] = []
    stop = asyncio.Event()
    watcher = asyncio.create_task(watch_lag(lag, stop))
    deadline = time.perf_counter() + seconds

    async def loop() -> None:
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            try:
                await unit()
            except Exception as exc:  # counted: a unit that fails is not a unit done
                errors.append(f"{type(exc).__name__}: {exc}"[:200])
                continue
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(loop() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    stop.set()
    await watcher
    return {"units": len(latencies), "units_per_s": round(len(latencies) / elapsed, 1), "errors": len(errors),
            "error_samples": errors[:2], "unit_latency": percentiles(latencies), "loop_lag": percentiles(lag)}


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    for pragma in ("journal_mode=WAL", "busy_timeout=30000", "foreign_keys=ON", "synchronous=NORMAL"):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


class Subjects:
    """Both designs against one database."""

    def __init__(self, mode: str, url: str) -> None:
        from gridline.storage.db import Database

        self.db = Database(url, threads=THREADS)
        Base.metadata.create_all(self.db.engine)
        if mode == "embedded":
            async_url = url.replace("sqlite:///", "sqlite+aiosqlite:///")
            self.async_engine = create_async_engine(async_url, connect_args={"timeout": 30})
            event.listen(self.async_engine.sync_engine, "connect", _sqlite_pragmas)
        else:
            async_url = self.db.url.replace("+psycopg://", "+psycopg_async://")
            self.async_engine = create_async_engine(async_url, pool_size=THREADS, max_overflow=10)

    async def thread_unit(self) -> None:
        def run() -> None:
            with self.db.session() as session:
                sync_unit(session)

        await self.db.run(run)

    async def asyncio_unit(self) -> None:
        async with AsyncSession(self.async_engine, expire_on_commit=False) as session:
            try:
                await async_unit(session)
                await session.commit()
            except BaseException:
                await session.rollback()
                raise

    async def close(self) -> None:
        await self.async_engine.dispose()
        self.db.dispose()


def _merge(runs: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "units_per_s": round(sum(r["units_per_s"] for r in runs) / len(runs), 1),
        "unit_latency_p50_ms": [r["unit_latency"]["p50_ms"] for r in runs],
        "unit_latency_p99_ms": [r["unit_latency"]["p99_ms"] for r in runs],
        "loop_lag_p99_ms": [r["loop_lag"]["p99_ms"] for r in runs],
        "loop_lag_max_ms": [r["loop_lag"]["max_ms"] for r in runs],
        "errors": sum(r["errors"] for r in runs),
        "error_samples": [s for r in runs for s in r["error_samples"]][:2],
        "rounds": runs,
    }


async def measure_mode(mode: str, url: str, concurrencies: list[int], seconds: float, rounds: int) -> dict[str, Any]:
    subjects = Subjects(mode, url)
    try:
        # Warm both: pools filled, statements compiled and cached.
        await drive(subjects.thread_unit, 16, 0.5)
        await drive(subjects.asyncio_unit, 16, 0.5)
        result: dict[str, Any] = {}
        for concurrency in concurrencies:
            runs: dict[str, list[dict[str, Any]]] = {"thread": [], "asyncio": []}
            for _ in range(rounds):
                runs["thread"].append(await drive(subjects.thread_unit, concurrency, seconds))
                runs["asyncio"].append(await drive(subjects.asyncio_unit, concurrency, seconds))
            thread, asyncio_ = _merge(runs["thread"]), _merge(runs["asyncio"])
            result[f"concurrency_{concurrency}"] = {
                "thread_pool_sync_session": thread,
                "asyncio_session": asyncio_,
                "throughput_ratio_thread_to_asyncio": round(thread["units_per_s"] / asyncio_["units_per_s"], 2)
                if asyncio_["units_per_s"] else None,
            }
        return result
    finally:
        await subjects.close()


async def main() -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=4.0, help="per run")
    parser.add_argument("--rounds", type=int, default=2, help="runs of each design per concurrency")
    parser.add_argument("--concurrency", default="1,16")
    parser.add_argument("--modes", default="embedded,postgres")
    args = parser.parse_args()
    concurrencies = [int(c) for c in args.concurrency.split(",")]
    out: dict[str, Any] = {
        "benchmark": "unit_of_work",
        "what": "insert + flush + select + update + commit through the ORM; units/s, unit latency, event-loop lag",
        "subjects": {"thread_pool_sync_session": f"gridline.storage.db.Database.run, {THREADS} threads",
                     "asyncio_session": "SQLAlchemy AsyncSession (aiosqlite / psycopg async), pool of the same size"},
        "baseline": "each design is the other's baseline: alternated in the same run on the same database",
        "seconds_per_run": args.seconds, "rounds": args.rounds,
        "started_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "modes": {},
    }
    with tempfile.TemporaryDirectory(prefix="gridline-uow-") as tmp:
        for mode in args.modes.split(","):
            name = None
            if mode == "embedded":
                url = f"sqlite:///{Path(tmp) / 'uow.db'}"
            else:
                name = f"bench_uow_{uuid.uuid4().hex[:8]}"
                pg_admin(f'CREATE DATABASE "{name}"')
                url = pg_url(name)
            try:
                out["modes"][mode] = await measure_mode(mode, url, concurrencies, args.seconds, args.rounds)
            finally:
                if name:
                    with contextlib.suppress(Exception):
                        pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return out


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main()), ensure_ascii=False, indent=2))
