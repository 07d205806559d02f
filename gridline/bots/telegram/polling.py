"""Long polling (``getUpdates``) for local development, when no public webhook URL exists.

Each update is stored in the durable inbox before the next ``getUpdates`` confirms it (the offset),
exactly like a webhook answered with 200; a repeated update is stored once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from gridline.bots.telegram.runtime import BotRuntime, RetryLater, TelegramSendError

if TYPE_CHECKING:
    from gridline.kernel.services import Services

log = logging.getLogger(__name__)

POLL_TIMEOUT_SECONDS = 25
MAX_BACKOFF_SECONDS = 60.0


class UpdatePoller:
    def __init__(self, services: Services, bot_name: str, runtime: BotRuntime) -> None:
        self.services = services
        self.bot_name = bot_name
        self.runtime = runtime
        self.offset: int | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self.run(), name=f"telegram-poll-{self.bot_name}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def run(self) -> None:
        backoff = 1.0
        webhook_deleted = False
        while True:
            try:
                if not webhook_deleted:  # getUpdates is refused while a webhook is set
                    await self.runtime.start()
                    await self.runtime.delete_webhook()
                    webhook_deleted = True
                await self.poll_once(POLL_TIMEOUT_SECONDS)
                backoff = 1.0
            except asyncio.CancelledError:
                raise
            except RetryLater as exc:
                await asyncio.sleep(exc.retry_after)
            except Exception as exc:  # Telegram or the database: keep polling, never die silently
                level = logging.WARNING if isinstance(exc, TelegramSendError) else logging.ERROR
                log.log(level, "telegram bot %r: polling failed (%s); retrying in %.0fs", self.bot_name, exc, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)

    async def poll_once(self, timeout: int) -> int:
        """Fetch and store one batch; returns how many updates arrived."""
        from gridline.core.inbox import receive_event

        updates = await self.runtime.get_updates(self.offset, timeout)
        for update in updates:
            update_id = update.get("update_id")
            if not isinstance(update_id, int):
                continue
            await receive_event(self.services, f"telegram:{self.bot_name}", str(update_id), update)
            self.offset = update_id + 1
        return len(updates)
