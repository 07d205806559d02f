"""Fixtures for outage tests: a redis-server of the test's own, killed and restarted at will."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.outage.support import RedisServer, free_port


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis").start()
    yield server
    server.kill()


@pytest.fixture
def dead_redis_url() -> str:
    """A Redis URL where nothing listens (Redis unreachable from the start)."""
    return f"redis://127.0.0.1:{free_port()}/0"
