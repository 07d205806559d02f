"""Real processes for the benchmarks that measure Gridline as it is deployed: a TOML configuration
per run, ``gridline serve`` / ``gridline worker`` (optionally through ``instrumented.py``), the
fast fake providers, the bare baseline app, and their clean shutdown.

Ports come from the range 19200-19299 on 127.0.0.1 (``GRIDLINE_BENCH_PORT_BASE`` moves it);
databases are named ``bench_*`` (dropped at the end); Redis is database 12
(``GRIDLINE_BENCH_REDIS_URL``), flushed per run.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench_support import PG_ADMIN_URL, REDIS_URL, ROOT, flush_redis, pg_admin, pg_url

BENCH = ROOT / "bench"
PYTHON = sys.executable
# ingest_bench.py; report_to_page_bench.py uses its own (below) so the two can run side by side.
# ``GRIDLINE_BENCH_PORT_BASE`` moves the whole range (two people benchmarking on one machine).
_BASE = int(os.environ.get("GRIDLINE_BENCH_PORT_BASE", "19200"))
FAKE_PORT = _BASE + 1
BARE_PORT = _BASE + 10
SERVE_PORT = _BASE + 20
RTP_FAKE_PORT, RTP_BARE_PORT, RTP_SERVE_PORT = _BASE + 31, _BASE + 32, _BASE + 30
SECRET = "bench-secret"
BOT = "bench"
TWILIO_SID = "AC" + "b" * 32
TWILIO_TOKEN = "bench-twilio-auth-token"
MODES = ("embedded", "postgres", "postgres+redis")


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(str(value))


def render_toml(sections: dict[str, Any]) -> str:
    """A small TOML writer for the nested dicts of settings below (tables of scalars)."""
    lines: list[str] = []

    def table(prefix: str, values: dict[str, Any]) -> None:
        scalars = {k: v for k, v in values.items() if not isinstance(v, dict)}
        tables = {k: v for k, v in values.items() if isinstance(v, dict)}
        if prefix and scalars:
            lines.append(f"[{prefix}]")
        for key, value in scalars.items():
            lines.append(f"{key} = {_toml_value(value)}")
        for key, value in tables.items():
            table(f"{prefix}.{key}" if prefix else key, value)

    table("", sections)
    return "\n".join(lines) + "\n"


class Run:
    """One run's scratch directory, databases, configuration files and processes."""

    def __init__(self, *, fake_port: int = FAKE_PORT) -> None:
        self.fake_port = fake_port
        self.dir = Path(tempfile.mkdtemp(prefix="gridline-bench-"))
        self._pg: list[str] = []
        self._procs: list[tuple[str, subprocess.Popen[bytes]]] = []

    def __enter__(self) -> Run:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- databases -----------------------------------------------------------------------------

    def database(self, mode: str, *, template: str | None = None) -> str:
        """A new empty database (or a copy of ``template``: a SQLite path or a PostgreSQL name)."""
        tag = uuid.uuid4().hex[:8]
        if mode == "embedded":
            path = self.dir / f"db-{tag}.db"
            if template:
                shutil.copyfile(template, path)
            return f"sqlite:///{path}"
        name = f"bench_{tag}"
        pg_admin(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        self._pg.append(name)
        return pg_url(name)

    def redis_url(self, mode: str, *, flush: bool = True) -> str:
        if mode != "postgres+redis":
            return ""
        if flush:
            flush_redis()
        return REDIS_URL

    # -- configuration ---------------------------------------------------------------------------

    def config(self, mode: str, database_url: str, *, port: int = SERVE_PORT, flush_redis: bool = True,
               **overrides: Any) -> Path:
        settings: dict[str, Any] = {
            "timezone": "Asia/Shanghai",
            "server": {"public_base_url": f"http://127.0.0.1:{port}", "host": "127.0.0.1", "port": port,
                       "workers": 1, "log_level": "WARNING"},
            "database": {"url": database_url},
            "redis": {"url": self.redis_url(mode, flush=flush_redis)},
            "nlu": {"engine": "embedded", "model_dir": str(ROOT / "var" / "models"),
                    "training_data": str(ROOT / "config" / "nlu" / "train.yml")},
            "telegram": {"bots": {BOT: {"token": "123456:bench-token", "secret_token": SECRET,
                                        "api_base_url": f"http://127.0.0.1:{self.fake_port}"}}},
            "twilio": {"account_sid": TWILIO_SID, "auth_token": TWILIO_TOKEN, "sms_number": "+8610000000001",
                       "voice_number": "+8610000000002", "api_base_url": f"http://127.0.0.1:{self.fake_port}"},
        }
        for key, value in overrides.items():
            if isinstance(value, dict):
                settings[key] = {**settings.get(key, {}), **value}
            else:
                settings[key] = value
        path = self.dir / f"gridline-{uuid.uuid4().hex[:6]}.toml"
        path.write_text(render_toml(settings), encoding="utf-8")
        return path

    # -- processes -------------------------------------------------------------------------------

    def start(self, name: str, argv: list[str], *, config: Path | None = None,
              env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        full_env = {**os.environ, "PYTHONPATH": f"{BENCH}:{ROOT}", **(env or {})}
        if config is not None:
            full_env["GRIDLINE_CONFIG"] = str(config)
        log = open(self.dir / f"{name}.log", "ab")  # noqa: SIM115 (closed with the process)
        proc = subprocess.Popen(argv, cwd=ROOT, env=full_env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
        self._procs.append((name, proc))
        return proc

    def gridline(self, name: str, args: list[str], config: Path, *, instrument: Path | None = None,
                 pages: bool = False, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        """``gridline ARGS`` (through ``instrumented.py`` when ``instrument`` is the samples file;
        ``pages``: with its timing notifiers)."""
        if instrument is not None:
            argv = [PYTHON, str(BENCH / "instrumented.py"), "--out", str(instrument),
                    *(["--pages"] if pages else []), "--", *args]
        else:
            argv = [PYTHON, "-c", "from gridline.cli import main; main()", *args]
        return self.start(name, argv, config=config, env=env)

    def log_tail(self, name: str, lines: int = 15) -> str:
        path = self.dir / f"{name}.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self, proc: subprocess.Popen[bytes], *, grace: float = 10.0) -> dict[str, Any]:
        """SIGTERM, then SIGKILL after ``grace`` seconds; returns how it ended."""
        if proc.poll() is not None:
            return {"exit": proc.returncode, "stop_s": 0.0, "killed": False}
        started = time.perf_counter()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(grace)
            killed = False
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)
            killed = True
        return {"exit": proc.returncode, "stop_s": round(time.perf_counter() - started, 2), "killed": killed}

    def close(self) -> None:
        for _, proc in reversed(self._procs):
            self.stop(proc, grace=5)
        for name in self._pg:
            with contextlib.suppress(Exception):
                pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if os.environ.get("BENCH_KEEP"):  # keep the logs and samples to look at
            print(f"kept {self.dir}", file=sys.stderr)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)


@contextlib.contextmanager
def run() -> Iterator[Run]:
    r = Run()
    try:
        yield r
    finally:
        r.close()


def wait_http(url: str, proc: subprocess.Popen[bytes] | None = None, *, timeout: float = 90.0) -> float:
    """Wait until ``url`` answers (any status below 500); returns the seconds it took."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before {url} answered")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status < 500:
                    return time.perf_counter() - started
        except urllib.error.HTTPError as exc:
            if exc.code < 500:
                return time.perf_counter() - started
        except OSError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {timeout} s")


def worker_stays_up(proc: subprocess.Popen[bytes], seconds: float = 10.0) -> bool:
    """``gridline worker`` refuses to start in some modes (exit 2): is this one running?"""
    try:
        proc.wait(seconds)
    except subprocess.TimeoutExpired:
        return True
    return False


def admin_url() -> str:
    return PG_ADMIN_URL
