"""``POST /webhooks/telegram/{bot_name}``: check the secret, store the update, answer 200.

Processing happens afterwards (``services.inbound_processors["telegram"]``), so Telegram never waits
on NLU or paging and a crash after the 200 loses nothing.

The webhook is a pure ASGI lane (:class:`WebhookLane`) in front of the application's routing, not a
FastAPI route: it is the one endpoint a flood hits, and what it does — cap and read the body, compare
the secret, parse the JSON, store, answer a fixed JSON — needs neither the router's walk over every
route of the console and the sandbox, nor dependency solving, nor a ``Request`` and a
``JSONResponse`` per update (measured in ``bench/ingest_bench.py``, docs/performance.md: that
framework work was most of a stored update's CPU). The statuses and bodies are the route's:
413 too large (before reading it when ``Content-Length`` says so, else as soon as it passes the
cap), 404 unknown bot, 403 wrong or missing secret (nothing stored), 400 not JSON, nested too
deeply or not an update, 200 once stored; an error while storing propagates to the server's error
middleware (500), so Telegram retries.
"""

from __future__ import annotations

import hmac
import json
import logging
from typing import TYPE_CHECKING, Any

from starlette.types import ASGIApp, Receive, Scope, Send

from gridline.edge.jsonbody import MAX_JSON_DEPTH, BadJson, load_json
from gridline.edge.lanes import Answer, post_path, read_body, send_answer
from gridline.edge.text import json_text_is_clean

if TYPE_CHECKING:
    from gridline.kernel.services import Services

log = logging.getLogger(__name__)

PATH_PREFIX = "/webhooks/telegram/"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_UPDATE_BYTES = 1_000_000  # real updates are a few kilobytes
_SECRET_HEADER = SECRET_HEADER.lower().encode("latin-1")


def _answer_bytes(status: int, description: str) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    # What FastAPI's JSONResponse sent for the same answer, rendered once at import.
    body = json.dumps({"ok": 200 <= status < 300, "description": description}, ensure_ascii=False,
                      separators=(",", ":")).encode()
    return status, [(b"content-length", str(len(body)).encode()), (b"content-type", b"application/json")], body


STORED = _answer_bytes(200, "stored")
UNKNOWN_BOT = _answer_bytes(404, "unknown bot")
FORBIDDEN = _answer_bytes(403, "forbidden")
NOT_JSON = _answer_bytes(400, "not JSON, or nested too deeply")
NOT_AN_UPDATE = _answer_bytes(400, "not a Telegram update")


class WebhookLane:
    """Pure ASGI middleware: ``POST /webhooks/telegram/<bot>`` is answered here; everything else
    (other methods, other paths) goes on to the application unchanged."""

    def __init__(self, app: ASGIApp, services: Services) -> None:
        self.app = app
        self.services = services
        limits = services.settings.limits
        self.cap = min(limits.telegram_body_bytes, MAX_UPDATE_BYTES)
        self.max_depth = min(limits.json_depth, MAX_JSON_DEPTH)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        bot_name = _bot_of(scope)
        if bot_name is None:
            await self.app(scope, receive, send)
            return
        length: bytes | None = None
        given = b""
        for name, value in scope["headers"]:
            if name == b"content-length":
                length = value
            elif name == _SECRET_HEADER:
                given = value
        body = await read_body(length, receive, send, self.cap)
        if body is None:  # refused as too large, or the client went away: nothing to store
            return
        bot = self.services.settings.telegram.bots.get(bot_name)
        if bot is None:
            await send_answer(send, UNKNOWN_BOT)
            return
        # A bot without a configured secret accepts nobody: webhooks must be set up with one.
        if not bot.secret_token or not hmac.compare_digest(given, bot.secret_token.encode()):
            client = scope.get("client")
            log.warning("telegram webhook %r: wrong or missing secret token from %s", bot_name,
                        client[0] if client else "?")
            await send_answer(send, FORBIDDEN)
            return
        await send_answer(send, await self.store(bot_name, body))

    async def store(self, bot_name: str, body: bytes) -> Answer:
        """Parse and store one update's body; the answer to send."""
        from gridline.core.inbox import store_event

        # A UTF-8 body (Telegram's) whose text shows no control character is parsed from that text and
        # stored without the walk over its strings; anything else the long way, as before.
        text = _utf8(body)
        clean = text is not None and json_text_is_clean(text)
        try:
            update = load_json(body, max_depth=self.max_depth, text=text if clean else None)
        except BadJson:
            return NOT_JSON
        update_id = update.get("update_id") if isinstance(update, dict) else None
        if not isinstance(update_id, int) or isinstance(update_id, bool):
            return NOT_AN_UPDATE
        # An update_id's digits are a clean key; the payload is walked unless its text was clean.
        _, is_new = await store_event(self.services, f"telegram:{bot_name}", str(update_id), update, clean=clean)
        if not is_new:
            log.info("telegram webhook %r: update %s already stored", bot_name, update_id)
        return STORED


def _utf8(body: bytes) -> str | None:
    # A BOM is left to json.loads' own detection (it accepts one on bytes, refuses one on text).
    if body.startswith(b"\xef\xbb\xbf"):
        return None
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _bot_of(scope: Scope) -> str | None:
    """The bot name of a ``POST /webhooks/telegram/<name>`` request, else None (as the route
    ``/webhooks/telegram/{bot_name}`` matched: one non-empty path segment, below any root path)."""
    path = post_path(scope)
    if path is None or not path.startswith(PATH_PREFIX):
        return None
    name = path[len(PATH_PREFIX):]
    return name if name and "/" not in name else None


def install_webhook(app: Any, services: Services) -> None:
    """Put the lane in front of the application's routing (``app.add_middleware``)."""
    app.add_middleware(WebhookLane, services=services)
