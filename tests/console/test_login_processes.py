"""20 parallel wrong passwords across two real ``gridline serve`` processes on PostgreSQL are checked
exactly as often as the failed-login policy allows (issue 10): the counter is charged atomically."""

from __future__ import annotations

import asyncio
import itertools
import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlmodel import func, select

from gridline.console import security
from gridline.storage.db import Database
from gridline.storage.models import AuditLog, ConsoleUser
from tests.conftest import ROOT, START, _pg_admin, _pg_url, _postgres_available, need_service
from tests.core.worker_support import write_toml

PORTS = (18711, 18712)
pytestmark = [pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture
def database() -> Iterator[str]:
    need_service("PostgreSQL", _postgres_available(), "start it or set GRIDLINE_TEST_POSTGRES_URL")
    name = f"gridline_login_{uuid.uuid4().hex[:10]}"
    _pg_admin(f'CREATE DATABASE "{name}"')
    try:
        yield _pg_url(name)
    finally:
        _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def serve(config: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "GRIDLINE_CONFIG": str(config)}
    command = [sys.executable, "-c", "from gridline.cli import main; main()", "serve", "--port", str(port)]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)


def wait_up(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"gridline serve exited:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/console/login", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"gridline serve on {port} did not come up:\n{log.read_text()[-3000:]}")


async def wrong_passwords(port: int, count: int) -> list[int]:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
        form = await client.get("/console/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert token, "login form has no CSRF token"
        data = {"name": "admin", "password": "not-the-password", "csrf_token": token.group(1)}
        answers = await asyncio.gather(*(client.post("/console/login", data=data) for _ in range(count)))
    return [a.status_code for a in answers]


async def test_twenty_parallel_wrong_passwords_on_two_processes_get_the_policys_checks(
    database: str, tmp_path: Path
) -> None:
    config = write_toml(tmp_path / "gridline.toml", {
        "timezone": "Asia/Shanghai",
        "database": {"url": database},
        "server": {"public_base_url": "http://127.0.0.1:18711", "log_level": "WARNING",
                   "secret_key": "login-test-secret-key"},
        "nlu": {"engine": "embedded", "model_dir": str(ROOT / "var" / "models"),
                "training_data": str(ROOT / "config" / "nlu" / "train.yml")},
    })
    processes: list[subprocess.Popen[bytes]] = []
    try:
        first = serve(config, PORTS[0], tmp_path / "first.log")
        processes.append(first)
        wait_up(PORTS[0], first, tmp_path / "first.log")  # it migrated the empty database
        second = serve(config, PORTS[1], tmp_path / "second.log")
        processes.append(second)
        wait_up(PORTS[1], second, tmp_path / "second.log")
        db = Database(database)
        with db.session() as session:
            session.add(ConsoleUser(name="admin", password_hash=security.hash_password("the-password"),
                                    role="admin", created_at=START))
        started = time.monotonic()
        codes = [c for batch in await asyncio.gather(*(wrong_passwords(p, 10) for p in PORTS)) for c in batch]
        elapsed = time.monotonic() - started
        with db.session() as session:
            def count(action: str) -> int:
                return session.exec(select(func.count()).select_from(AuditLog).where(AuditLog.action == action)).one()
            checked, refused = count("console.login_failed"), count("console.login_refused")
        db.dispose()
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)
    allowed = security.FREE_FAILURES + 1  # free mistakes, then the one that starts the first wait
    # On a machine so busy that the twenty answers take longer than the first wait (argon2 per check),
    # a request that arrives after a wait has ended is rightly checked: the policy allows one per wait.
    waits_over = itertools.accumulate(security.DELAY_SECONDS)
    most = allowed + sum(1 for ended in waits_over if ended <= elapsed)
    assert allowed <= checked <= most, f"{checked} passwords checked in {elapsed:.1f} s; the policy allows {most}"
    assert refused == 20 - checked
    assert sorted(codes) == [401] * security.FREE_FAILURES + [429] * (20 - security.FREE_FAILURES)
