"""Shared set-up for the job-queue benchmarks: demo databases on SQLite or PostgreSQL, Redis, the
in-process job runners of both modes, percentiles and a machine description.

Used by ``report_to_page_bench.py`` and ``escalation_lateness_bench.py``; not a benchmark itself.
"""

from __future__ import annotations

import contextlib
import os
import platform
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get("GRIDLINE_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
# A Redis database of its own: the job queue's name is fixed and a job is a row id.
REDIS_URL = os.environ.get("GRIDLINE_BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")
BACKENDS = ("embedded", "postgres+redis")


def percentiles(values: list[float]) -> dict[str, float | int | None]:
    """p50/p99/max (and count) in milliseconds of values given in seconds."""
    if not values:
        return {"count": 0, "p50_ms": None, "p99_ms": None, "max_ms": None}
    ordered = sorted(values)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 2)

    return {"count": len(ordered), "p50_ms": at(0.50), "p99_ms": at(0.99), "max_ms": round(ordered[-1] * 1000, 2)}


def machine() -> dict[str, Any]:
    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {"python": platform.python_version(), "platform": platform.platform(), "cpu": cpu,
            "cpus": os.cpu_count(), "load_average_at_start": [round(x, 2) for x in load] if load else None}


def pg_admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(sql)


def pg_url(database: str) -> str:
    return f"{PG_ADMIN_URL.rpartition('/')[0]}/{database}"


def base_settings(database_url: str, redis_url: str = "", **overrides: Any) -> Any:
    """Settings for a benchmark run: the demo city, the embedded NLU, no TOML file involved."""
    from gridline.settings import Settings

    values: dict[str, Any] = {
        "timezone": "Asia/Shanghai",
        "database": {"url": database_url},
        "redis": {"url": redis_url},
        "nlu": {"engine": "embedded", "model_dir": str(ROOT / "var" / "models"),
                "training_data": str(ROOT / "config" / "nlu" / "train.yml")},
        "server": {"log_level": "WARNING"},
    }
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(values.get(key), dict):
            values[key] = {**values[key], **value}
        else:
            values[key] = value
    return Settings(**values)


class DemoDatabases:
    """Fresh demo databases: the demo city is loaded once per backend, then copied for each run."""

    def __init__(self) -> None:
        self._dir = Path(tempfile.mkdtemp(prefix="gridline-bench-"))
        self._sqlite_template: Path | None = None
        self._pg_template: str | None = None
        self._pg_databases: list[str] = []

    def _load(self, url: str) -> None:
        from gridline.demo import load_demo
        from gridline.storage.db import Database
        from gridline.storage.migrate import upgrade

        db = Database(url)
        upgrade(db)  # migrated, not create_all: ``gridline serve`` can then start on a copy
        load_demo(db, base_settings(url))
        db.dispose()

    def template(self, backend: str) -> str:
        """The template holding the demo city: a SQLite file's path, or a PostgreSQL database's name."""
        if backend == "embedded":
            if self._sqlite_template is None:
                self._sqlite_template = self._dir / "template.db"
                self._load(f"sqlite:///{self._sqlite_template}")
            return str(self._sqlite_template)
        if self._pg_template is None:
            self._pg_template = f"bench_tpl_{uuid.uuid4().hex[:8]}"
            pg_admin(f'CREATE DATABASE "{self._pg_template}"')
            self._load(pg_url(self._pg_template))
        return self._pg_template

    def new(self, backend: str) -> str:
        """The URL of a new database holding the demo city."""
        if backend == "embedded":
            if self._sqlite_template is None:
                self._sqlite_template = self._dir / "template.db"
                self._load(f"sqlite:///{self._sqlite_template}")
            path = self._dir / f"run-{uuid.uuid4().hex[:8]}.db"
            shutil.copyfile(self._sqlite_template, path)
            return f"sqlite:///{path}"
        if self._pg_template is None:
            self._pg_template = f"bench_tpl_{uuid.uuid4().hex[:8]}"
            pg_admin(f'CREATE DATABASE "{self._pg_template}"')
            self._load(pg_url(self._pg_template))
        name = f"bench_{uuid.uuid4().hex[:8]}"
        pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{self._pg_template}"')
        self._pg_databases.append(name)
        return pg_url(name)

    def close(self) -> None:
        for name in [*self._pg_databases, *([self._pg_template] if self._pg_template else [])]:
            with contextlib.suppress(Exception):
                pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        shutil.rmtree(self._dir, ignore_errors=True)


@contextmanager
def demo_databases() -> Iterator[DemoDatabases]:
    databases = DemoDatabases()
    try:
        yield databases
    finally:
        databases.close()


def flush_redis() -> None:
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()


def build(backend: str, database_url: str, **overrides: Any) -> Any:
    """Services with the real clock for ``backend`` (Redis flushed for a clean queue)."""
    from gridline.clock import SystemClock
    from gridline.composition import build_services

    redis_url = ""
    if backend == "postgres+redis":
        flush_redis()
        redis_url = REDIS_URL
    return build_services(base_settings(database_url, redis_url, **overrides), SystemClock())


@asynccontextmanager
async def job_runner(services: Any, *, arq_max_jobs: int | None = None) -> AsyncIterator[None]:
    """Run jobs while the block runs: the in-process scheduler (SQLite), or on PostgreSQL a
    procrastinate worker plus its safety-net loop in this process (what ``gridline worker`` runs).

    ``arq_max_jobs`` (the old name) overrides the worker's concurrency (``jobs.concurrency``)."""
    if arq_max_jobs is not None:
        services.settings.jobs.concurrency = arq_max_jobs
    await services.jobs.start_in_process(services.handlers)
    try:
        yield
    finally:
        await services.jobs.close()