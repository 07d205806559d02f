"""``POST /webhooks/telegram/{bot_name}``: check the secret, store the update, answer 200.

Processing happens afterwards (``services.inbound_processors["telegram"]``), so Telegram never waits
on NLU or paging and a crash after the 200 loses nothing.
"""

from __future__ import annotations

import hmac
import logging
from typing import TYPE_CHECKING

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from gridline.edge.jsonbody import BadJson, load_json

if TYPE_CHECKING:
    from gridline.kernel.services import Services

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_UPDATE_BYTES = 1_000_000  # real updates are a few kilobytes


def webhook_router(services: Services) -> APIRouter:
    router = APIRouter()

    @router.post("/webhooks/telegram/{bot_name}", include_in_schema=False)
    async def telegram_webhook(bot_name: str, request: Request) -> JSONResponse:
        from gridline.core.inbox import receive_event

        bot = services.settings.telegram.bots.get(bot_name)
        if bot is None:
            return _answer(404, "unknown bot")
        given = request.headers.get(SECRET_HEADER, "")
        # A bot without a configured secret accepts nobody: webhooks must be set up with one.
        if not bot.secret_token or not hmac.compare_digest(given.encode(), bot.secret_token.encode()):
            log.warning("telegram webhook %r: wrong or missing secret token from %s", bot_name, _client(request))
            return _answer(403, "forbidden")
        body = await request.body()
        if len(body) > MAX_UPDATE_BYTES:
            return _answer(413, "update too large")
        try:
            update = load_json(body)
        except BadJson:
            return _answer(400, "not JSON, or nested too deeply")
        update_id = update.get("update_id") if isinstance(update, dict) else None
        if not isinstance(update_id, int) or isinstance(update_id, bool):
            return _answer(400, "not a Telegram update")
        _, is_new = await receive_event(services, f"telegram:{bot_name}", str(update_id), update)
        if not is_new:
            log.info("telegram webhook %r: update %s already stored", bot_name, update_id)
        return _answer(200, "stored")

    return router


def _answer(status: int, description: str) -> JSONResponse:
    return JSONResponse({"ok": 200 <= status < 300, "description": description}, status_code=status)


def _client(request: Request) -> str:
    return request.client.host if request.client else "?"
