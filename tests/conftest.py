"""Shared fixtures: a fake clock, services on SQLite / PostgreSQL / PostgreSQL + Redis with the demo
city loaded, and ``drain`` to run every job that is due.

PostgreSQL and Redis tests skip locally when the servers are missing (say how to enable them) and
fail under ``CI=true``, where ``.ci/run`` has started them.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from gridline.clock import FakeClock
from gridline.composition import build_services
from gridline.kernel.services import Services
from gridline.settings import Settings
from gridline.storage.db import Database

ROOT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI", "").lower() == "true"
PG_ADMIN_URL = os.environ.get("GRIDLINE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("GRIDLINE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
ALL_BACKENDS = ("sqlite", "postgres", "postgres+redis")
# GRIDLINE_TEST_BACKENDS=sqlite,postgres runs the scenario tests on some backends only (.ci/run's
# runs under libfaketime, where a Redis server on real time is not the point).
BACKENDS = tuple(
    b for b in os.environ.get("GRIDLINE_TEST_BACKENDS", ",".join(ALL_BACKENDS)).split(",") if b in ALL_BACKENDS
)
SHANGHAI = ZoneInfo("Asia/Shanghai")


def _recent_thursday_morning() -> datetime:
    """The latest Thursday 10:00 in Asia/Shanghai at or before the real now.

    Tests need a known weekday and hour (the demo rota), but the queue, Redis expiry and the
    database's ``now()`` run on real time, so the fake clock starts within a week of it on any date.
    """
    now = datetime.now(SHANGHAI)
    day = now - timedelta(days=(now.weekday() - 3) % 7)
    start = day.replace(hour=10, minute=0, second=0, microsecond=0)
    if start > now:
        start -= timedelta(days=7)
    return start.astimezone(UTC)


START = _recent_thursday_morning()


# Whole conversations and timers on the fake clock: scenario tests too (on SQLite).
SCENARIO_MODULES = (
    "tests/core/test_escalation.py",
    "tests/twilio/test_sms_scripts.py",
    "tests/telegram/test_conversations.py",
    "tests/web/test_sandbox_conversation.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the scenario tests (``-m scenario``): those run once per backend, and whole scripts."""
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        per_backend = params.get("backend") in ALL_BACKENDS or params.get("world") in ALL_BACKENDS
        if per_backend or item.nodeid.split("::", 1)[0] in SCENARIO_MODULES:
            item.add_marker(pytest.mark.scenario)


def need_service(name: str, available: bool, how: str) -> None:
    """Skip locally, fail in CI: a CI run must exercise every real service."""
    if available:
        return
    message = f"{name} is not reachable; {how}"
    if IN_CI:
        pytest.fail(message + " (CI=true: this test must run)")
    pytest.skip(message)


def _postgres_available() -> bool:
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL.replace("+psycopg", ""), connect_timeout=3) as conn:
            conn.execute("select 1")
        return True
    except Exception:
        return False


def _redis_available() -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping())
    except Exception:
        return False


def _pg_admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(sql)


def _pg_url(database: str) -> str:
    base, _, _ = PG_ADMIN_URL.rpartition("/")
    return f"{base}/{database}"


def base_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "timezone": "Asia/Shanghai",
        "server": {"public_base_url": "http://127.0.0.1:8000"},
        "nlu": {
            "engine": "embedded",
            "model_dir": str(ROOT / "var" / "models"),
            "training_data": str(ROOT / "config" / "nlu" / "train.yml"),
        },
        # 走千家 plans visits and sends daily digests on every reconcile; the tests of visits
        # (tests/visits) turn it on, the others would otherwise see digests days into a script.
        "visits": {"enabled": False},
    }
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(values.get(key), dict):
            values[key] = {**values[key], **value}
        else:
            values[key] = value
    return Settings(**values)


def _load_demo_into(url: str) -> None:
    from gridline.demo import load_demo

    db = Database(url)
    db.create_all()
    load_demo(db, base_settings(database={"url": url}), now=START)
    db.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "demo.db"
    _load_demo_into(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str]:
    need_service(
        "PostgreSQL", _postgres_available(), "start it (pg_ctlcluster ... main start) or set GRIDLINE_TEST_POSTGRES_URL"
    )
    name = f"gridline_tpl_{os.getpid()}"
    _pg_admin(f'DROP DATABASE IF EXISTS "{name}"')
    _pg_admin(f'CREATE DATABASE "{name}"')
    _load_demo_into(_pg_url(name))
    yield name
    _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


MakeServices = Callable[..., Awaitable[Services]]


@pytest.fixture
async def make_services(
    tmp_path: Path, clock: FakeClock, request: pytest.FixtureRequest, sqlite_template: Path
) -> AsyncIterator[MakeServices]:
    """Factory: ``await make_services(backend="sqlite", **settings_overrides)`` → Services with the demo city."""
    created: list[Services] = []
    databases: list[str] = []

    async def factory(backend: str = "sqlite", **overrides: Any) -> Services:
        if backend == "sqlite":
            path = tmp_path / f"gridline-{len(created)}.db"
            shutil.copyfile(sqlite_template, path)
            url = f"sqlite:///{path}"
        else:
            template = request.getfixturevalue("postgres_template")
            name = f"gridline_t_{uuid.uuid4().hex[:12]}"
            _pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
            databases.append(name)
            url = _pg_url(name)
        redis_url = ""
        if backend.endswith("+redis"):
            need_service("Redis", _redis_available(), "start redis-server or set GRIDLINE_TEST_REDIS_URL")
            redis_url = REDIS_URL
        # A namespace per services object: tests never see each other's keys, queues or job ids.
        redis_settings = {"url": redis_url, "namespace": f"t{uuid.uuid4().hex[:10]}"}
        # Evidence photos go to the test's own folder, never to the worktree's var/.
        overrides["evidence"] = {"path": str(tmp_path / f"evidence-{len(created)}"), **overrides.get("evidence", {})}
        settings = base_settings(database={"url": url}, redis=redis_settings, **overrides)
        services = build_services(settings, clock)
        created.append(services)
        return services

    yield factory
    for services in created:
        if services.settings.redis.url:
            _forget_namespace(services.settings.redis.url, services.settings.redis.namespace)
        await services.aclose()
    for name in databases:
        _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _forget_namespace(url: str, namespace: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    keys = list(client.scan_iter(f"{namespace}:*"))
    if keys:
        client.delete(*keys)


def forget_redis(services: Services) -> None:
    """Lose everything this services object keeps in Redis (as a flushed Redis would)."""
    _forget_namespace(services.settings.redis.url, services.settings.redis.namespace)


@pytest.fixture
async def services(make_services: MakeServices) -> Services:
    return await make_services()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def scenario_services(make_services: MakeServices, backend: str) -> Services:
    """The same services on each backend: SQLite, PostgreSQL, PostgreSQL + Redis."""
    return await make_services(backend)


async def _drain(services: Services) -> int:
    """Run every job due at the fake clock's now (inbound processing, steps, deliveries)."""
    return await services.jobs.run_due(services.handlers)


@pytest.fixture
def drain() -> Callable[[Services], Awaitable[int]]:
    """``await drain(services)`` runs every job due now until none is left."""
    return _drain
