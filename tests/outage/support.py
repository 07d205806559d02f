"""A redis-server of the test's own, to kill and restart; ports for the processes a test starts.

``GRIDLINE_TEST_PORTS=18900-18999`` confines them to a range (several people on one machine);
without it the operating system picks free ports.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import IN_CI

_used: set[int] = set()


def free_port() -> int:
    """A TCP port nothing listens on now (from ``GRIDLINE_TEST_PORTS`` when set)."""
    span = os.environ.get("GRIDLINE_TEST_PORTS", "")
    candidates: list[int] = [0]
    if span:
        low, _, high = span.partition("-")
        candidates = [p for p in range(int(low), int(high) + 1) if p not in _used]
    for port in candidates:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            chosen = int(sock.getsockname()[1])
        _used.add(chosen)
        return chosen
    raise RuntimeError(f"no free port in {span}")


def redis_server_binary() -> str:
    found = shutil.which("redis-server")
    if found is None:
        message = "redis-server is not installed (apt-get install redis-server)"
        if IN_CI:
            pytest.fail(message + " (CI=true: this test must run)")
        pytest.skip(message)
    return found


class RedisServer:
    """A throw-away redis-server on 127.0.0.1 (no persistence): start, kill, start again."""

    def __init__(self, workdir: Path, port: int | None = None) -> None:
        self.binary = redis_server_binary()
        self.port = port or free_port()
        self.workdir = workdir
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        self.workdir.mkdir(parents=True, exist_ok=True)
        log = (self.workdir / "redis.log").open("ab")
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.workdir)],
            stdout=log, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.answers():
                return self
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited: {(self.workdir / 'redis.log').read_text()[-2000:]}")
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start within 20 s")

    def answers(self) -> bool:
        import redis

        try:
            return bool(redis.Redis(port=self.port, socket_connect_timeout=0.5, socket_timeout=0.5).ping())
        except Exception:
            return False

    def kill(self) -> None:
        """SIGKILL: Redis is gone with everything it held, as in a crash."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None

    def client(self):  # type: ignore[no-untyped-def]
        import redis

        return redis.Redis(port=self.port, decode_responses=True, socket_timeout=2)


def wait_for(condition, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    """Poll ``condition`` until it holds (a deadline for a hung test, not a timing assertion)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


async def eventually(condition, timeout: float, what: str, state=None) -> None:  # type: ignore[no-untyped-def]
    """``wait_for`` for async tests: the event loop keeps running (probes, pumps) meanwhile."""
    import asyncio

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        await asyncio.sleep(0.05)
    detail = f" ({state()})" if state is not None else ""
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}{detail}")
