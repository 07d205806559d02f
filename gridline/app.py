"""The FastAPI application: core routes plus whatever each channel package installs."""

from __future__ import annotations

import importlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from gridline.core.services import Services

log = logging.getLogger(__name__)

# Each package exposes ``install(app, services)``: it adds its routes, registers its notifiers and
# inbound processors, and may add start-up/shutdown hooks to ``services.extras``.
CHANNEL_PACKAGES = (
    "gridline.bots.web",
    "gridline.bots.telegram",
    "gridline.bots.twilio",
    "gridline.console",
)


def create_app(services: Services, *, run_jobs: bool = True) -> FastAPI:
    """Build the app around ``services``. ``run_jobs`` starts the in-process scheduler (embedded mode)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        for hook in services.extras.get("startup_hooks", []):
            await hook()
        if run_jobs:
            await services.jobs.start_in_process(services)
        try:
            yield
        finally:
            await services.aclose()

    app = FastAPI(title="Gridline", version="0.1.0", lifespan=lifespan)
    app.state.services = services
    from gridline.api.health import router as health_router

    app.include_router(health_router)
    if services.settings.open311.enabled:
        from gridline.api.open311 import router as open311_router

        app.include_router(open311_router)
    for name in CHANNEL_PACKAGES:
        module = importlib.import_module(name)
        install = getattr(module, "install", None)
        if install is not None:
            install(app, services)
    from gridline.core.log_notifier import register_missing

    unconfigured = register_missing(services.notifiers)
    if unconfigured:
        log.info("channels without a provider (pages fall through to the next channel): %s", unconfigured)
    return app
