"""The FastAPI application: core routes plus whatever each channel package installs."""

from __future__ import annotations

import importlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import RedirectResponse

from gridline.composition import CHANNEL_PACKAGES, install_channels
from gridline.kernel.services import Services

log = logging.getLogger(__name__)



def create_app(services: Services, *, run_jobs: bool = True, sandbox: bool | None = None) -> FastAPI:
    """Build the app around ``services``. ``run_jobs`` starts the in-process scheduler (embedded mode).

    ``sandbox``: True mounts the web sandbox (``--demo``), False never does (workers), None lets the
    settings decide (``[sandbox] enabled``, refused on a public address; see ``bots.web.exposure``).
    Without it every ``/sandbox`` path answers 404.
    """
    from gridline.bots.web.exposure import sandbox_enabled

    mount_sandbox = sandbox_enabled(services.settings) if sandbox is None else sandbox

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        for hook in services.startup_hooks:
            await hook()
        if run_jobs:
            await services.jobs.start_in_process(services.handlers)
        try:
            yield
        finally:
            await services.aclose()

    # FastAPI's /docs, /redoc and /openapi.json describe every route and parameter: a demo's, not
    # production's, to publish (the schema is still built on demand: ``app.openapi()``).
    app = FastAPI(title="Gridline", version="0.1.0", lifespan=lifespan,
                  docs_url="/docs" if mount_sandbox else None, redoc_url="/redoc" if mount_sandbox else None,
                  openapi_url="/openapi.json" if mount_sandbox else None)
    app.state.services = services
    from gridline.edge.bodylimit import install_body_limit
    from gridline.edge.cleaning import install_clean_input

    # Inside the body cap (middlewares added later wrap those added earlier): capped, then cleaned.
    install_clean_input(app)
    install_body_limit(app, services.settings)
    from gridline.api.health import router as health_router

    app.include_router(health_router)
    if services.settings.open311.enabled:
        from gridline.api.open311 import router as open311_router

        app.include_router(open311_router)
    install_channels(services)
    for name in CHANNEL_PACKAGES:
        install_routes = getattr(importlib.import_module(name), "install_routes", None)
        if install_routes is not None:
            install_routes(app, services)
    if mount_sandbox:
        from gridline.bots.web import install_sandbox

        install_sandbox(app, services)
    # "/" has no page of its own: a demo's front door is the sandbox, production's the console.
    front_door = "/sandbox" if mount_sandbox else "/console/"

    @app.get("/", include_in_schema=False)
    async def root() -> RedirectResponse:
        return RedirectResponse(front_door, status_code=307)

    return app
