"""Run a ``gridline`` command (``serve``, ``worker``) with measuring instruments attached.

    .venv/bin/python bench/instrumented.py --out samples.jsonl [--pages] -- serve --port 19220

The command runs exactly as ``gridline ...`` would, in this process, plus:

- **event-loop lag**: a task that asks to wake every 10 ms and notes how late it woke (started by a
  start-up hook, so it runs on the loop that serves webhooks or runs jobs);
- **statements**: every SQL statement Gridline's SQLAlchemy engines send (``before_cursor_execute``),
  and, separately, every statement sent through psycopg's asyncio cursors (the job queue's own
  connections on PostgreSQL, which do not go through SQLAlchemy);
- **CPU time** of the process (all its threads), so a benchmark can divide it by the work done;
- with ``--pages``, a **timing notifier** for every channel in place of the real ones: it notes the
  wall-clock time at which the first page of each case is handed to it and answers "delivered".

A thread appends what was measured to ``--out`` every half second as JSON lines, so the file is
complete up to the last half second even if the process is killed.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

LAG_INTERVAL = 0.010
_statements = itertools.count()
_async_statements = itertools.count()
_lag: list[tuple[float, float]] = []
_pages: dict[str, float] = {}
_page_count = itertools.count()
_lock = threading.Lock()


def _count_sqlalchemy() -> None:
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    @event.listens_for(Engine, "before_cursor_execute")
    def _counted(*_args: Any) -> None:
        next(_statements)


def _count_psycopg_async() -> None:
    try:
        import psycopg
    except ImportError:
        return
    cursor = psycopg.AsyncCursor
    original_execute, original_many = cursor.execute, cursor.executemany

    async def execute(self: Any, *args: Any, **kwargs: Any) -> Any:
        next(_async_statements)
        return await original_execute(self, *args, **kwargs)

    async def executemany(self: Any, *args: Any, **kwargs: Any) -> Any:
        next(_async_statements)
        return await original_many(self, *args, **kwargs)

    cursor.execute = execute  # type: ignore[method-assign]
    cursor.executemany = executemany  # type: ignore[method-assign]


async def _watch_lag() -> None:
    # perf_counter, not loop.time(): uvloop's clock has millisecond resolution.
    while True:
        before = time.perf_counter()
        await asyncio.sleep(LAG_INTERVAL)
        late = time.perf_counter() - before - LAG_INTERVAL
        with _lock:
            _lag.append((time.time(), max(0.0, late)))


class TimingNotifier:
    def __init__(self, channel: str) -> None:
        self.channel = channel

    async def send_page(self, notice: Any) -> Any:
        from gridline.kernel.notify import Delivery

        now = time.time()
        next(_page_count)
        with _lock:
            _pages.setdefault(notice.case_ref, now)
        return Delivery("delivered", provider_message_id=f"bench-p{notice.page_id}")

    async def send_message(self, notice: Any) -> Any:
        from gridline.kernel.notify import Delivery

        return Delivery("delivered", provider_message_id=f"bench-m{notice.message_id}")

    async def update_page(self, update: Any) -> None:
        return None


def _patch_create_app(pages: bool) -> None:
    """``gridline serve`` builds its app with ``create_app``; ``gridline worker`` only installs the
    channels (``composition.install_channels``): the timing notifiers and the lag ticker go in after
    whichever of the two runs (once per services object)."""
    import gridline.app as app_module
    import gridline.composition as composition

    original = app_module.create_app
    original_install = composition.install_channels
    tasks: list[asyncio.Task[None]] = []
    done: set[int] = set()

    def instrument(services: Any) -> None:
        if id(services) in done:
            return
        done.add(id(services))
        if pages:
            for channel in ("telegram", "sms", "voice", "web"):
                services.notifiers.register(TimingNotifier(channel))

        async def start_watching() -> None:
            if not tasks:
                tasks.append(asyncio.get_running_loop().create_task(_watch_lag()))

        services.startup_hooks.append(start_watching)

    def create_app(services: Any, *args: Any, **kwargs: Any) -> Any:
        app = original(services, *args, **kwargs)
        instrument(services)
        return app

    def install_channels(services: Any) -> Any:
        unconfigured = original_install(services)
        instrument(services)
        return unconfigured

    app_module.create_app = create_app  # type: ignore[assignment]
    composition.install_channels = install_channels  # type: ignore[assignment]


def _flush_forever(out: Path) -> None:
    sent_lag = 0
    sent_pages: set[str] = set()
    with out.open("a", encoding="utf-8") as f:
        while True:
            time.sleep(0.5)
            with _lock:
                lag = _lag[sent_lag:]
                sent_lag += len(lag)
                pages = {k: v for k, v in _pages.items() if k not in sent_pages}
                sent_pages.update(pages)
            record = {
                "t": time.time(),
                # itertools.count has no peek: copying its repr is the cheap way to read it
                "statements": int(repr(_statements)[6:-1]),
                "async_statements": int(repr(_async_statements)[6:-1]),
                "pages_handed": int(repr(_page_count)[6:-1]),
                # CPU seconds of the whole process (all threads): the figure a saturated core hides
                "cpu_s": round(time.process_time(), 4),
                "lag": [[round(t, 3), round(v * 1000, 2)] for t, v in lag],
                "first_pages": pages,
            }
            f.write(json.dumps(record) + "\n")
            f.flush()


def _maybe_profile() -> None:
    """``GRIDLINE_BENCH_PROFILE=DIR``: a yappi profile (CPU clock, every thread) of the whole process,
    saved as ``DIR/<pid>.pstat`` every 10 s and when it exits — where a report's CPU goes, not its
    waits. A save costs CPU of its own (``instrumented.py:save`` in the profile)."""
    folder = os.environ.get("GRIDLINE_BENCH_PROFILE")
    if not folder:
        return
    import atexit

    import yappi

    yappi.set_clock_type("cpu")
    yappi.start(builtins=False)

    path = str(Path(folder) / f"{os.getpid()}.pstat")

    def save() -> None:
        yappi.get_func_stats().save(path, type="pstat")

    def save_every_10_s() -> None:
        # uvicorn's SIGTERM ends `serve` without atexit: the last save before it is the profile
        while True:
            time.sleep(10)
            save()

    atexit.register(save)
    threading.Thread(target=save_every_10_s, daemon=True, name="bench-profile").start()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--pages", action="store_true", help="replace the notifiers by timing notifiers")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = [a for a in args.command if a != "--"]
    _count_sqlalchemy()
    _count_psycopg_async()
    _patch_create_app(args.pages)
    _maybe_profile()
    threading.Thread(target=_flush_forever, args=(args.out,), daemon=True, name="bench-flush").start()
    from gridline.cli import main as gridline_main

    sys.argv = ["gridline", *command]
    gridline_main()


if __name__ == "__main__":
    main()
