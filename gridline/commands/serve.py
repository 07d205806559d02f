"""``gridline serve`` and ``gridline worker``."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import threading
from collections.abc import Coroutine
from typing import Any

import typer

from gridline.settings import Settings, load_settings
from gridline.storage.db import Database

log = logging.getLogger(__name__)

# Uvicorn's supervisor (``--workers`` > 1) kills a worker process that does not answer its health
# check within this many seconds, and a worker answers only once it has imported the command line
# (``gridline.cli``: 2 s on a quiet machine, 6–8 s on a loaded 2-core one). Uvicorn's default of
# 5 s killed every worker of ``gridline serve --workers 2`` there, and the parent went on serving
# nothing; a worker that really hangs is still replaced, after this long.
WORKER_HEALTHCHECK_SECONDS = 60


def startup_problems(settings: Settings) -> list[str]:
    """What in the settings would fail every web process or worker at start-up, said plainly."""
    from gridline.bots.web.push import vapid_key_problem

    problems = [vapid_key_problem(settings.inbox)]
    return [problem for problem in problems if problem]


def refuse_bad_settings(settings: Settings) -> None:
    """Exit 2 with the problems of :func:`startup_problems`, before anything is started or migrated."""
    problems = startup_problems(settings)
    for problem in problems:
        typer.echo(problem, err=True)
    if problems:
        raise typer.Exit(2)


def prepare_database(settings: Settings, *, demo: bool) -> None:
    """Migrate the schema; with ``demo``, load the demo city into an empty database."""
    from gridline.storage import directory
    from gridline.storage.migrate import upgrade

    db = Database(settings.database.url)
    upgrade(db)
    if demo:
        # A command, before any event loop runs: a plain session is the right door here.
        with db.session() as session:
            empty = not directory.has_grids(session)
        if empty:
            from gridline.demo import load_demo

            load_demo(db, settings)
            typer.echo("loaded the demo city (config/demo/)")
    db.dispose()


def apply_switch_interval(settings: Settings) -> None:
    """``server.switch_interval_ms``: the event loop gets the GIL back from a busy database thread
    within this, not Python's 5 ms (0 leaves Python's default alone)."""
    if settings.server.switch_interval_ms > 0:
        sys.setswitchinterval(settings.server.switch_interval_ms / 1000)


def settle_heap(settings: Settings) -> None:
    """``server.freeze_heap``: once a process has started, what it holds then (the NLU model, the
    address index, every imported library) is collected once and frozen (``gc.freeze``), so the
    collector's full passes walk only what the process made since. The objects stay alive and are
    freed as ever when nothing refers to them; only a cycle among them is never collected."""
    if not settings.server.freeze_heap:
        return
    import gc

    gc.collect()
    gc.freeze()
    log.debug("heap frozen: %d objects out of the collector's sight", gc.get_freeze_count())


def app_factory():  # type: ignore[no-untyped-def]
    """Uvicorn factory for worker processes: one app (and one set of services) per process."""
    from gridline.app import create_app
    from gridline.bots.web.exposure import DEMO_ENV
    from gridline.composition import build_services
    from gridline.logging_setup import configure_logging

    settings = load_settings()
    configure_logging(settings)
    apply_switch_interval(settings)
    services = build_services(settings)
    # ``--demo`` mounts the sandbox; otherwise ``[sandbox] enabled`` decides (and may refuse).
    sandbox = True if os.environ.get(DEMO_ENV) == "1" else None
    # On SQLite the web process runs the jobs; on PostgreSQL `gridline worker` processes do (or this
    # one too, with jobs.run_in_serve).
    run_jobs = services.db.is_sqlite or settings.jobs.run_in_serve
    app = create_app(services, run_jobs=run_jobs, sandbox=sandbox)

    async def started() -> None:  # the last start-up hook: the channels have loaded what they load
        settle_heap(settings)

    services.startup_hooks.append(started)
    return app


def register(app: typer.Typer) -> None:
    @app.command()
    def serve(
        demo: bool = typer.Option(
            False, "--demo", help="Load the demo city into an empty database and mount the web sandbox."
        ),
        host: str | None = typer.Option(None, help="Bind address (default: server.host)."),
        port: int | None = typer.Option(None, help="Port (default: server.port)."),
        workers: int | None = typer.Option(None, help="Worker processes (default: server.workers)."),
    ) -> None:
        """Run the web service (webhooks, sandbox, console, API)."""
        import uvicorn

        from gridline.bots.web.exposure import DEMO_ENV, SandboxRefused, sandbox_enabled

        settings = load_settings()
        refuse_bad_settings(settings)
        try:
            sandbox = demo or sandbox_enabled(settings)
        except SandboxRefused as refused:
            typer.echo(str(refused), err=True)
            raise typer.Exit(2) from refused
        prepare_database(settings, demo=demo)
        # The uvicorn worker processes build their own app (app_factory) and read this.
        os.environ[DEMO_ENV] = "1" if demo else "0"
        count = workers or settings.server.workers
        bind_host, bind_port = host or settings.server.host, port or settings.server.port
        where = "sandbox: /sandbox, console: /console" if sandbox else "console and staff inbox: /console"
        typer.echo(f"Gridline on http://{bind_host}:{bind_port}/  ({where})")
        uvicorn.run(
            "gridline.commands.serve:app_factory",
            factory=True,
            host=bind_host,
            port=bind_port,
            workers=count,
            proxy_headers=True,
            timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
            log_level=settings.server.log_level.lower(),
        )

    @app.command()
    def worker(
        burst: bool = typer.Option(False, help="Run what is due now, then exit."),
    ) -> None:
        """Run escalation timers and deliveries from PostgreSQL's job queue (production mode)."""
        settings = load_settings()
        refuse_bad_settings(settings)
        if Database(settings.database.url).is_sqlite:
            typer.echo("gridline worker needs PostgreSQL ([database] url); on SQLite `gridline serve` runs the jobs.",
                       err=True)
            raise typer.Exit(2)
        _run_then_exit(run_worker(settings, burst=burst))


async def run_worker(settings: Settings, *, burst: bool = False) -> None:
    """Run jobs until SIGTERM or SIGINT; then stop taking jobs and exit within the shutdown bound."""
    from gridline.composition import build_services, install_channels
    from gridline.logging_setup import configure_logging
    from gridline.storage.pg_jobs import PostgresJobQueue

    configure_logging(settings)
    services = build_services(settings)
    install_channels(services)
    for hook in services.startup_hooks:
        try:
            await hook()
        except Exception:  # a channel that cannot start now must not keep the others from working
            log.exception("a start-up hook failed; the worker runs without it")
    settle_heap(settings)
    queue = services.jobs
    assert isinstance(queue, PostgresJobQueue)
    if burst:
        try:
            await queue.run_due(services.handlers)
        finally:
            await services.aclose()
        return

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    bound = settings.jobs.shutdown_grace_seconds + 3

    def on_signal(signum: int) -> None:
        if stop.is_set():
            return
        log.info("worker %s: %s, stopping (at most %.0f s)", os.getpid(), signal.Signals(signum).name, bound)
        stop.set()
        # The last resort if something does not let go (a provider call that ignores cancellation, a
        # database thread in a lock wait): every claim is leased, so exiting loses nothing.
        guard = threading.Timer(bound, _exit_now)
        guard.daemon = True
        guard.start()

    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, on_signal, signum)
    log.info("worker %s started", os.getpid())
    try:
        await queue.run_worker(services.handlers, stop)
    finally:
        try:
            await asyncio.wait_for(services.aclose(), timeout=2.0)
        except Exception:
            log.warning("closing the clients took too long", exc_info=True)
    log.info("worker %s stopped", os.getpid())


def _run_then_exit(main: Coroutine[Any, Any, None]) -> None:
    """``asyncio.run`` without its wait for executor threads at the end.

    A provider call still blocked in a thread (twilio's client is synchronous) would keep the
    process alive until the call's own timeout, past the stop bound; its row is leased (claimed and
    released or retried by the next worker), so the thread is left behind.
    """
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        loop.run_until_complete(main)
    finally:
        pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
        for task in pending:
            task.cancel()
        if pending:
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_asyncgens())
        asyncio.set_event_loop(None)
        loop.close()  # shuts the default executor down without waiting
    blocked = [t for t in threading.enumerate() if t is not threading.main_thread() and t.is_alive() and not t.daemon]
    if blocked:
        log.info("worker %s: leaving %d blocked threads behind", os.getpid(), len(blocked))
        logging.shutdown()
        os._exit(0)


def _exit_now() -> None:
    log.error("worker %s did not stop in time; exiting anyway", os.getpid())
    logging.shutdown()
    os._exit(1)
