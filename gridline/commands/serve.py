"""``gridline serve`` and ``gridline worker``."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os

import typer

from gridline.settings import Settings, load_settings

log = logging.getLogger(__name__)


def prepare_database(settings: Settings, *, demo: bool) -> None:
    """Migrate the schema; with ``demo``, load the demo city into an empty database."""
    from sqlmodel import select

    from gridline.storage.db import Database
    from gridline.storage.migrate import upgrade
    from gridline.storage.models import Grid

    db = Database(settings.database.url)
    upgrade(db)
    if demo:
        with db.session() as session:
            empty = session.exec(select(Grid.id).limit(1)).first() is None
        if empty:
            from gridline.demo import load_demo

            load_demo(db, settings)
            typer.echo("loaded the demo city (config/demo/)")
    db.dispose()


def app_factory():  # type: ignore[no-untyped-def]
    """Uvicorn factory for worker processes: one app (and one set of services) per process."""
    from gridline.app import create_app
    from gridline.bots.web.exposure import DEMO_ENV
    from gridline.core.services import build_services
    from gridline.logging_setup import configure_logging

    settings = load_settings()
    configure_logging(settings)
    services = build_services(settings)
    # ``--demo`` mounts the sandbox; otherwise ``[sandbox] enabled`` decides (and may refuse).
    sandbox = True if os.environ.get(DEMO_ENV) == "1" else None
    # Embedded mode runs jobs inside the web process; with Redis, `gridline worker` runs them.
    return create_app(services, run_jobs=not settings.redis.url, sandbox=sandbox)


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
            log_level=settings.server.log_level.lower(),
        )

    @app.command()
    def worker(
        burst: bool = typer.Option(False, help="Run what is due now, then exit."),
    ) -> None:
        """Run escalation timers and deliveries from Redis (production mode)."""
        settings = load_settings()
        if not settings.redis.url:
            typer.echo("gridline worker needs [redis] url; in embedded mode `gridline serve` runs the jobs.", err=True)
            raise typer.Exit(2)
        asyncio.run(run_worker(settings, burst=burst))


async def run_worker(settings: Settings, *, burst: bool = False) -> None:
    from gridline.app import create_app
    from gridline.core.engine import reconcile
    from gridline.core.services import build_services
    from gridline.logging_setup import configure_logging
    from gridline.storage.jobs import ArqJobQueue

    configure_logging(settings)
    services = build_services(settings)
    create_app(services, run_jobs=False, sandbox=False)  # installs the channel notifiers into services
    for hook in services.extras.get("startup_hooks", []):
        await hook()
    queue = services.jobs
    assert isinstance(queue, ArqJobQueue)
    await queue.pool()
    if burst:
        await queue.run_due(services)
        await services.aclose()
        return

    async def reconcile_forever() -> None:
        while True:
            try:
                await reconcile(services, grace_seconds=settings.jobs.reconcile_grace_seconds)
            except Exception:
                log.exception("reconcile failed")
            await asyncio.sleep(settings.jobs.reconcile_seconds)

    reconciler = asyncio.create_task(reconcile_forever())
    worker = queue.worker(services)
    log.info("worker %s started", os.getpid())
    try:
        await worker.main()
    finally:
        reconciler.cancel()
        with contextlib.suppress(BaseException):
            await reconciler
        await services.aclose()
