"""Telegram: residents report and staff acknowledge, on python-telegram-bot or aiogram.

Data flows one way: update → webhook (stored) → runtime (library handlers) → :mod:`.flows` →
the conversation core / ``act_on_case`` → outbox → :mod:`.notifier` → the library's ``Bot``.
"""

from __future__ import annotations

from fastapi import FastAPI

from gridline.kernel.services import Services


def install_channel(services: Services) -> None:
    """Register the bots (``services.parts``), the notifier, the inbound processor and the
    start-up/shutdown hooks."""
    from gridline.bots.telegram.bots import PROVIDER_PREFIX, TelegramBots
    from gridline.bots.telegram.notifier import TelegramNotifier
    from gridline.bots.telegram.rescue import read_update

    bots = services.parts.put(TelegramBots(services))
    if not len(bots):
        return
    services.notifiers.register(TelegramNotifier(services, bots))
    services.inbound_processors[PROVIDER_PREFIX] = bots.process_event
    services.inbound_readers[PROVIDER_PREFIX] = read_update
    services.startup_hooks.append(bots.start)
    services.close_hooks.append(bots.close)


def install_routes(app: FastAPI, services: Services) -> None:
    """Add the webhook (``POST /webhooks/telegram/{bot}``, a lane in front of the routes)."""
    from gridline.bots.telegram.webhook import install_webhook

    install_webhook(app, services)
