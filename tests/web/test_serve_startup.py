"""``gridline serve`` and ``gridline worker`` start as docs/operations.md says, or say plainly why not.

Found by following docs/operations.md from a fresh clone: the production example's placeholder
``vapid_private_key`` failed every web process and the worker with a base64 traceback, and
``gridline serve --workers 2`` on a loaded 2-core machine had both workers killed by uvicorn's
5-second health check while they were still importing, the parent serving nothing.
"""

from __future__ import annotations

import base64
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from typer.testing import CliRunner

from gridline.bots.web.exposure import DEMO_ENV
from gridline.bots.web.push import WebPush, new_vapid_keys, vapid_key_problem
from gridline.cli import app
from gridline.commands import serve as serve_command
from gridline.settings import InboxSettings
from tests.conftest import ROOT
from tests.web.test_sandbox_exposure import config_file, gridline_command

PLACEHOLDER = "<from gridline inbox vapid-keys; better in the environment>"


@pytest.mark.parametrize("key", ["", "   "])
def test_no_key_is_no_problem(key: str) -> None:
    assert vapid_key_problem(InboxSettings(vapid_private_key=key)) is None


def test_the_keys_gridline_prints_and_pem_keys_are_accepted() -> None:
    private, _public = new_vapid_keys()
    assert vapid_key_problem(InboxSettings(vapid_private_key=private)) is None
    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    assert vapid_key_problem(InboxSettings(vapid_private_key=pem)) is None
    # docs/inbox.md: "base64url (raw 32 bytes) or PEM" — py_vapid's from_string read only the first.
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    point = key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    assert WebPush(InboxSettings(vapid_private_key=pem)).public_key == base64.urlsafe_b64encode(point).rstrip(
        b"=").decode()


@pytest.mark.parametrize("key", [PLACEHOLDER, "not-a-key", "YHH0sHvzkPk0fvgdEtOfva67EeZzrKiGr3cPc5njmV"])
def test_an_unreadable_key_is_named(key: str) -> None:
    problem = vapid_key_problem(InboxSettings(vapid_private_key=key))
    assert problem is not None
    assert "vapid_private_key" in problem and "gridline inbox vapid-keys" in problem


@pytest.mark.slow
@pytest.mark.parametrize("command", ["serve", "worker"])
def test_an_unreadable_vapid_key_stops_serve_and_worker_before_anything_starts(
    command: str, tmp_path: Path
) -> None:
    database = tmp_path / "never.db"
    config = config_file(tmp_path, f"sqlite:///{database}", inbox={"vapid_private_key": PLACEHOLDER})
    env = {**os.environ, "GRIDLINE_CONFIG": str(config)}
    env.pop(DEMO_ENV, None)
    done = subprocess.run(gridline_command(command), cwd=ROOT, env=env, capture_output=True, timeout=120)
    assert done.returncode == 2, done.stderr.decode()
    stderr = done.stderr.decode()
    assert "vapid_private_key" in stderr and "Traceback" not in stderr and "╭" not in stderr, stderr
    assert not database.exists()  # nothing migrated, nothing served


def test_serve_gives_its_worker_processes_time_to_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn

    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: calls.append(kwargs))
    monkeypatch.setattr(serve_command, "prepare_database", lambda settings, *, demo: None)
    config = config_file(tmp_path, f"sqlite:///{tmp_path / 'g.db'}")
    monkeypatch.setenv("GRIDLINE_CONFIG", str(config))
    monkeypatch.delenv(DEMO_ENV, raising=False)
    result = CliRunner().invoke(app, ["serve", "--workers", "2", "--port", "18999"])
    os.environ.pop(DEMO_ENV, None)
    assert result.exit_code == 0, result.output
    (kwargs,) = calls
    assert kwargs["workers"] == 2 and kwargs["port"] == 18999
    # A worker answers uvicorn's health check only after importing the command line: 6–8 s on a
    # loaded 2-core machine, past uvicorn's default 5 s.
    assert kwargs["timeout_worker_healthcheck"] >= 30


@pytest.mark.slow
@pytest.mark.parametrize(("variable", "value", "says"), [
    ("GRIDLINE_CONFIG", "/nonexistent/gridline.toml", "GRIDLINE_CONFIG points at"),
    ("GRIDLINE_SERVER__PORT", "abc", "server.port"),
    ("GRIDLINE_OPEN311__API_KEYS", "key-1", "is JSON"),
    ("GRIDLINE_DATABASE__URL", "postgresql+psycopg://postgres@127.0.0.1:1/gridline", "cannot reach the database"),
])
def test_a_wrong_setting_is_one_plain_message_not_a_traceback(
    variable: str, value: str, says: str, tmp_path: Path
) -> None:
    config = config_file(tmp_path, f"sqlite:///{tmp_path / 'g.db'}")
    env = {**os.environ, "GRIDLINE_CONFIG": str(config), variable: value}
    done = subprocess.run(gridline_command("db", "current"), cwd=ROOT, env=env, capture_output=True, timeout=120)
    stderr = done.stderr.decode()
    assert done.returncode == 2, stderr
    assert stderr.startswith("gridline: ") and says in stderr, stderr
    assert "Traceback" not in stderr and "╭" not in stderr and len(stderr.splitlines()) <= 5, stderr


def test_a_broken_settings_file_is_named(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("[server\nport = 1\n")
    env = {**os.environ, "GRIDLINE_CONFIG": str(broken)}
    done = subprocess.run(gridline_command("db", "current"), cwd=ROOT, env=env, capture_output=True, timeout=120)
    assert done.returncode == 2 and b"not valid TOML" in done.stderr, done.stderr


def test_the_redis_client_is_made_without_a_warning() -> None:
    """Every web process and worker printed redis-py's 'A synchronous redis.retry.Retry was passed to
    an asyncio client' at start-up: the asyncio client takes redis.asyncio.retry.Retry."""
    import warnings

    from gridline.storage.redis_link import RedisLink

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        RedisLink("redis://127.0.0.1:6379/0")  # makes the client; connects on first use
