"""The sandbox is mounted only with ``--demo`` or ``[sandbox] enabled`` on a private address.

Driven the way production runs it: a real ``gridline serve`` process, and the ASGI app exactly as
``gridline serve``'s uvicorn factory (``app_factory``) builds it in each worker process.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute

from gridline.bots.web.api import build_api
from gridline.bots.web.exposure import DEMO_ENV, SandboxRefused, is_private_host, sandbox_enabled
from gridline.bots.web.page import build_page_router
from gridline.commands.serve import app_factory
from gridline.kernel.services import Services
from tests.conftest import ROOT, _pg_admin, _pg_url, _postgres_available, base_settings, need_service
from tests.core.worker_support import write_toml

pytestmark = pytest.mark.slow

def sandbox_paths(services: Services) -> list[tuple[str, str]]:
    """Every (method, path) the sandbox answers when it is mounted, with ids filled in, plus its
    static files and a path nobody defined."""
    paths: list[tuple[str, str]] = []
    for route in [*build_api(services).routes, *build_page_router().routes]:
        if isinstance(route, APIRoute):
            assert route.path.startswith("/sandbox"), route.path
            concrete = re.sub(r"\{[^}]+\}", "1", route.path)
            paths.extend((method, concrete) for method in sorted(route.methods))
    static = ROOT / "gridline" / "bots" / "web" / "static"
    paths.extend(("GET", f"/sandbox/static/{f.name}") for f in sorted(static.iterdir()) if f.is_file())
    paths += [("GET", "/sandbox/"), ("GET", "/sandbox/no/such/thing"), ("POST", "/sandbox/api/anything")]
    assert len(paths) > 12, paths
    return paths

def config_file(tmp_path: Path, database_url: str, **sections: dict[str, object]) -> Path:
    config: dict[str, object] = {
        "timezone": "Asia/Shanghai",
        "server": {"public_base_url": "http://127.0.0.1:8000", "log_level": "WARNING"},
        "database": {"url": database_url},
        "nlu": {"engine": "embedded", "model_dir": str(ROOT / "var" / "models"),
                "training_data": str(ROOT / "config" / "nlu" / "train.yml")},
        **sections,
    }
    return write_toml(tmp_path / f"gridline-{uuid.uuid4().hex[:6]}.toml", config)

@pytest.fixture
def sqlite_copy(tmp_path: Path, sqlite_template: Path) -> str:
    path = tmp_path / "served.db"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite:///{path}"

@pytest.fixture
def postgres_database(postgres_template: str) -> Iterator[str]:
    name = f"gridline_s_{uuid.uuid4().hex[:12]}"
    _pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{postgres_template}"')
    yield _pg_url(name)
    _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

@pytest.fixture(autouse=True)
def keep_logging() -> Iterator[None]:
    """``app_factory`` configures logging for a server process; give the test process its own back."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def served_app(monkeypatch: pytest.MonkeyPatch, config: Path, *, demo: bool) -> FastAPI:
    """The app ``gridline serve [--demo]`` hands to uvicorn (its factory, settings from the file)."""
    monkeypatch.setenv("GRIDLINE_CONFIG", str(config))
    monkeypatch.setenv(DEMO_ENV, "1" if demo else "0")
    app: FastAPI = app_factory()
    return app

async def test_without_demo_every_sandbox_path_is_404(
    services: Services, sqlite_copy: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = sandbox_paths(services)
    app = served_app(monkeypatch, config_file(tmp_path, sqlite_copy), demo=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gridline.test") as http:
        for method, path in paths:
            response = await http.request(method, path, json={})
            assert response.status_code == 404, (method, path, response.status_code)
        root = await http.get("/")
        assert root.status_code == 307 and root.headers["location"] == "/console/"
        assert (await http.get("/healthz")).status_code == 200
    await app.state.services.aclose()

@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
async def test_with_demo_the_sandbox_works(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = request.getfixturevalue("sqlite_copy" if backend == "sqlite" else "postgres_database")
    app = served_app(monkeypatch, config_file(tmp_path, url), demo=True)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gridline.test") as http:
        assert (await http.get("/")).headers["location"] == "/sandbox"
        page = await http.get("/sandbox")
        assert page.status_code == 200 and "sandbox.js" in page.text
        staff = await http.get("/sandbox/api/staff")
        assert staff.status_code == 200, staff.text
        people = staff.json()["staff"]
        # Every demo base-grid leader has a web inbox; each appears once (no duplicate rows from the join).
        codes = [s["code"] for s in people]
        assert "LDR-ZY01-01-1" in codes and len(codes) == len(set(codes))
        residents = (await http.get("/sandbox/api/residents")).json()["residents"]
        assert residents and (await http.get(f"/sandbox/api/inbox/{people[0]['id']}")).status_code == 200
    await app.state.services.aclose()

def test_enabled_sandbox_needs_a_private_address(caplog: pytest.LogCaptureFixture) -> None:
    assert not sandbox_enabled(base_settings())
    with caplog.at_level(logging.WARNING):
        assert sandbox_enabled(base_settings(sandbox={"enabled": True},
                                             server={"public_base_url": "http://192.168.1.20:8000"}))
    assert any("SANDBOX IS MOUNTED" in r.getMessage() for r in caplog.records)
    public = {"public_base_url": "https://gridline.example.org"}
    with pytest.raises(SandboxRefused, match="allow_public"):
        sandbox_enabled(base_settings(sandbox={"enabled": True}, server=public))
    assert sandbox_enabled(base_settings(sandbox={"enabled": True, "allow_public": True}, server=public))

@pytest.mark.parametrize(("host", "private"), [
    ("127.0.0.1", True), ("localhost", True), ("::1", True), ("10.1.2.3", True), ("172.20.0.5", True),
    ("192.168.0.9", True), ("fd00::1", True), ("grid.localhost", True),
    ("8.8.8.8", False), ("gridline.example.org", False), ("2001:4860::1", False), ("", False), (None, False),
])
def test_private_hosts(host: str | None, private: bool) -> None:
    assert is_private_host(host) is private

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])

def gridline_command(*args: str) -> list[str]:
    script = Path(sys.executable).with_name("gridline")
    if script.exists():
        return [str(script), *args]
    return [sys.executable, "-c", "from gridline.cli import main; main()", *args]

def serve(config: Path, *args: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "GRIDLINE_CONFIG": str(config), "PYTHONUNBUFFERED": "1"}
    env.pop(DEMO_ENV, None)
    process = subprocess.Popen(gridline_command("serve", "--port", str(port), *args), cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"gridline serve exited: {process.stdout.read().decode() if process.stdout else ''}")
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return process, base
        except httpx.HTTPError:
            time.sleep(0.3)
    process.kill()
    raise AssertionError("gridline serve did not start in 120 s")

def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()

@pytest.fixture
def empty_postgres() -> Iterator[str]:
    need_service("PostgreSQL", _postgres_available(), "start it or set GRIDLINE_TEST_POSTGRES_URL")
    name = f"gridline_e_{uuid.uuid4().hex[:12]}"
    _pg_admin(f'CREATE DATABASE "{name}"')
    yield _pg_url(name)
    _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_a_real_serve_process_hides_the_sandbox_and_demo_shows_it(
    backend: str, services: Services, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    paths = sandbox_paths(services)
    # An empty database, as on a first start: ``serve`` migrates it, ``--demo`` then loads the demo city.
    sqlite = f"sqlite:///{tmp_path / 'first-start.db'}"
    url = sqlite if backend == "sqlite" else request.getfixturevalue("empty_postgres")
    fresh = config_file(tmp_path, url)
    process, base = serve(fresh)
    try:
        for method, path in paths:
            assert httpx.request(method, base + path, json={}).status_code == 404, (method, path)
    finally:
        stop(process)
    process, base = serve(fresh, "--demo")
    try:
        assert httpx.get(f"{base}/sandbox").status_code == 200
        staff = httpx.get(f"{base}/sandbox/api/staff")
        assert staff.status_code == 200 and staff.json()["staff"], staff.text
    finally:
        stop(process)


def test_serve_refuses_an_enabled_sandbox_on_a_public_address(tmp_path: Path) -> None:
    config = config_file(tmp_path, f"sqlite:///{tmp_path / 'never.db'}", sandbox={"enabled": True},
                         server={"public_base_url": "https://gridline.example.org"})
    env = {**os.environ, "GRIDLINE_CONFIG": str(config)}
    done = subprocess.run(gridline_command("serve", "--port", str(free_port())), cwd=ROOT, env=env,
                          capture_output=True, timeout=120)
    assert done.returncode == 2
    assert b"allow_public" in done.stderr
    assert not (tmp_path / "never.db").exists()
