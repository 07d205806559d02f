"""Browser-test harness: the app served by uvicorn on a free loopback port in a background thread,
and Debian's Chromium driven by Playwright (never ``playwright install``).

Locally the browser tests skip with a reason when Chromium or Playwright is missing; under
``CI=true`` they must run.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import threading
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI

CHROMIUM = os.environ.get("GRIDLINE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "console"
DOC_SCREENSHOTS = ROOT / "docs" / "screenshots"


def require_browser() -> None:
    """Skip (locally) or fail (CI) when Chromium or Playwright is missing."""
    missing = []
    if not Path(CHROMIUM).exists():
        missing.append(f"{CHROMIUM} (apt-get install -y chromium)")
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        missing.append("the playwright Python package (pip install playwright; no browser download needed)")
    if missing:
        message = "browser test needs " + " and ".join(missing)
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message + " (CI=true: browser tests must run)")
        pytest.skip(message)


class LiveServer:
    """uvicorn serving ``app`` on 127.0.0.1 and a free port, in its own thread and event loop."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", 0))
        self.port = self._socket.getsockname()[1]
        # lifespan off: the test fixtures own the services and close them.
        config = uvicorn.Config(app, log_level="warning", lifespan="off", timeout_graceful_shutdown=1)
        self.server = uvicorn.Server(config)
        self.loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=self._run, name="console-live-server", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _run(self) -> None:
        self.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self.server.serve(sockets=[self._socket]))

    async def start(self) -> None:
        self._thread.start()
        for _ in range(500):
            if self.server.started:
                return
            await asyncio.sleep(0.01)
        raise RuntimeError("the console server did not start")

    def call(self, coroutine: Coroutine[Any, Any, Any]) -> Any:
        """Run ``coroutine`` on the server's loop (e.g. publish an event to its in-memory bus)."""
        assert self.loop is not None
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=10)

    async def stop(self) -> None:
        self.server.should_exit = True
        await asyncio.to_thread(self._thread.join, 10)
        self._socket.close()


def save_screenshot(png: bytes, name: str) -> Path:
    """Keep a screenshot as a test artifact; with GRIDLINE_UPDATE_SCREENSHOTS=1 also refresh docs/."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    path.write_bytes(png)
    if os.environ.get("GRIDLINE_UPDATE_SCREENSHOTS") == "1":
        DOC_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, DOC_SCREENSHOTS / f"{name}.png")
    return path


@asynccontextmanager
async def chromium_serving(app: FastAPI) -> AsyncIterator[tuple[Any, LiveServer]]:
    """Chromium, and ``app`` served on a loopback port: what the browser tests' ``browser`` fixtures yield."""
    require_browser()
    from playwright.async_api import async_playwright

    server = LiveServer(app)
    await server.start()
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium, server
        finally:
            await chromium.close()
    await server.stop()


async def sign_in(page: Any, server: LiveServer, name: str, target: str = "/console/cases") -> None:
    """Sign in to the console as ``name`` (the console fixtures' password) and land on ``target``."""
    from tests.console.conftest import PASSWORD

    await page.goto(f"{server.url}/console/login?next={target}")
    await page.fill("input[name=name]", name)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("form button[type=submit]")
    await page.wait_for_url(f"{server.url}{target}")
