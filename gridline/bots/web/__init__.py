"""The web sandbox: chat as a resident and answer as the paged leader, in one browser page.

It is a real channel of the core, named ``web``: the chat posts into the durable inbox
(``receive_event``), a job hands the message to ``handle_inbound``, pages and replies leave through
:class:`~gridline.bots.web.notifier.WebNotifier`, and the leader's buttons call ``act_on_case`` —
the same path as Telegram, only the provider is the browser.

``install_channel(services)`` (always: the ``web`` channel — its notifier and inbound processor) and
``install_sandbox(app, services)`` (only with ``--demo`` or ``[sandbox] enabled``, see
:mod:`gridline.bots.web.exposure`) are called by :mod:`gridline.composition` and :func:`gridline.app.create_app`.
"""

from __future__ import annotations

from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles

from gridline.edge.ratelimit import limit_sandbox
from gridline.kernel.services import Services


def install_channel(services: Services) -> None:
    """Register the ``web`` notifier and inbound processor (the channel, with or without the sandbox)."""
    from gridline.bots.web.inbound import PREFIX, process_web_event, read_web_event
    from gridline.bots.web.notifier import WebNotifier

    services.notifiers.register(WebNotifier(services))
    services.inbound_processors[PREFIX] = process_web_event
    services.inbound_readers[PREFIX] = read_web_event


def install_sandbox(app: FastAPI, services: Services) -> None:
    """Add the sandbox page, its API and static files under ``/sandbox``."""
    from gridline.bots.web.api import build_api
    from gridline.bots.web.page import STATIC, STATIC_PATH, build_page_router

    # Per-IP request rate ([limits] sandbox_per_ip): a demo left open must not become a load generator.
    app.include_router(build_api(services), dependencies=[Depends(limit_sandbox)])
    app.include_router(build_page_router())
    app.mount(STATIC_PATH, StaticFiles(directory=STATIC), name="sandbox-static")
