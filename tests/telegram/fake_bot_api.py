"""A fake Telegram Bot API: a real HTTP server on 127.0.0.1 that both libraries talk to.

It serves the methods Gridline uses (``getMe``, ``sendMessage``, ``sendPhoto``, ``editMessageText``,
``editMessageReplyMarkup``, ``answerCallbackQuery``, ``setWebhook``, ``deleteWebhook``,
``getUpdates``, ``getFile`` and file downloads), records every call, keeps what each chat has been
sent (so tests can read and tap buttons), and can be told to fail the next calls with 429 / 5xx /
403 like Telegram does. Like Telegram, it delivers updates to the webhook registered with
``setWebhook`` — with the secret token — or hands them out through ``getUpdates``.

``TelegramPerson`` (see ``people.py``) builds updates the way a phone would.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from dataclasses import dataclass, field
from typing import Any

import httpx
from aiohttp import web

from tests.fake_servers import serve_locally

JSON = dict[str, Any]


@dataclass
class ApiCall:
    token: str
    method: str
    params: JSON
    status: int = 200


@dataclass
class ChatMessage:
    """A message in a chat as the fake server knows it (sent by the bot or by a person)."""

    chat_id: int
    message_id: int
    text: str  # the caption for photos; "" when there is none
    buttons: list[list[JSON]] = field(default_factory=list)
    from_bot: bool = True
    raw: JSON = field(default_factory=dict)
    edits: list[str] = field(default_factory=list)
    reply_to: int | None = None
    photo: str | None = None

    @property
    def button_labels(self) -> list[str]:
        return [button["text"] for row in self.buttons for button in row]

    def button(self, label: str) -> JSON:
        for row in self.buttons:
            for button in row:
                if button["text"] == label:
                    return button
        raise AssertionError(f"no button {label!r} on message {self.text!r}; buttons: {self.button_labels}")


@dataclass
class Fault:
    """Fail the next ``remaining`` calls of ``method`` (to ``chat_id`` if given)."""

    method: str
    status: int
    description: str
    remaining: int = 1
    retry_after: int | None = None
    chat_id: int | None = None


@dataclass
class Webhook:
    url: str
    secret_token: str | None
    allowed_updates: list[str] | None


DEFAULT_DESCRIPTIONS = {
    400: "Bad Request",
    403: "Forbidden: bot was blocked by the user",
    429: "Too Many Requests: retry after {retry_after}",
    500: "Internal Server Error",
    502: "Bad Gateway",
}


class FakeBotApi:
    """The fake server. ``await start()`` returns its base URL, e.g. ``http://127.0.0.1:41234``."""

    def __init__(self) -> None:
        self.calls: list[ApiCall] = []
        self.chats: dict[int, list[ChatMessage]] = {}
        self.webhooks: dict[str, Webhook] = {}
        self.callback_answers: dict[str, JSON] = {}
        self.files: dict[str, tuple[str, bytes]] = {}
        self.downloads: list[tuple[str, str]] = []  # (token, file path) of every file served
        self.faults: list[Fault] = []
        # Where Gridline's webhook lives: tests give a client (ASGI transport or real HTTP).
        self.webhook_client: httpx.AsyncClient | None = None
        self._queued: dict[str, list[JSON]] = {}
        self._queued_changed = asyncio.Event()
        self._message_ids: dict[int, itertools.count[int]] = {}
        self._update_ids = itertools.count(900_001)
        self._callback_ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self._closing = False
        self.url = ""

    # -- server ------------------------------------------------------------------------------------

    async def start(self) -> str:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle_method)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        self._runner, self.url = await serve_locally(app)
        return self.url

    async def stop(self) -> None:
        self._closing = True
        self._queued_changed.set()  # release pending long polls
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _handle_method(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        method = request.match_info["method"]
        params = await _read_params(request)
        call = ApiCall(token=token, method=method, params=params)
        self.calls.append(call)
        fault = self._take_fault(method, params)
        if fault is not None:
            call.status = fault.status
            return _error(fault.status, fault.description.format(retry_after=fault.retry_after), fault.retry_after)
        handler = getattr(self, f"_api_{method}", None)
        if handler is None:
            call.status = 404
            return _error(404, "Not Found: method not found")
        try:
            result = await handler(token, params)
        except ApiError as exc:
            call.status = exc.status
            return _error(exc.status, exc.description)
        return web.json_response({"ok": True, "result": result})

    async def _handle_file(self, request: web.Request) -> web.Response:
        path = request.match_info["path"]
        token = request.match_info["token"]
        if ":" not in token:  # the bot's token is part of the download URL, as on Telegram
            return web.Response(status=401)
        for stored_path, content in self.files.values():
            if stored_path == path:
                self.downloads.append((token, path))
                return web.Response(body=content, content_type="image/jpeg")
        return web.Response(status=404)

    def _take_fault(self, method: str, params: JSON) -> Fault | None:
        chat_id = _int_or_none(params.get("chat_id"))
        for fault in self.faults:
            if fault.remaining <= 0 or fault.method not in (method, "*"):
                continue
            if fault.chat_id is not None and fault.chat_id != chat_id:
                continue
            fault.remaining -= 1
            return fault
        return None

    # -- test controls -----------------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        status: int,
        *,
        times: int = 1,
        retry_after: int | None = None,
        chat_id: int | None = None,
        description: str | None = None,
    ) -> Fault:
        """Make the next ``times`` calls of ``method`` (``*`` = any) answer ``status`` like Telegram."""
        if status == 429 and retry_after is None:
            retry_after = 5
        fault = Fault(
            method=method,
            status=status,
            description=description or DEFAULT_DESCRIPTIONS.get(status, "Error"),
            remaining=times,
            retry_after=retry_after,
            chat_id=chat_id,
        )
        self.faults.append(fault)
        return fault

    def calls_of(self, method: str, *, chat_id: int | None = None) -> list[ApiCall]:
        return [
            call
            for call in self.calls
            if call.method == method and (chat_id is None or _int_or_none(call.params.get("chat_id")) == chat_id)
        ]

    def sent_to(self, chat_id: int) -> list[ChatMessage]:
        """What the bot has sent to a chat, oldest first."""
        return [m for m in self.chats.get(chat_id, []) if m.from_bot]

    def add_file(self, file_id: str, content: bytes, path: str | None = None) -> str:
        path = path or f"photos/{file_id}.jpg"
        self.files[file_id] = (path, content)
        return path

    def queue_update(self, token: str, update: JSON) -> None:
        """Hand ``update`` out on the next ``getUpdates`` of that bot (long polling)."""
        self._queued.setdefault(token, []).append(update)
        self._queued_changed.set()

    def next_update_id(self) -> int:
        return next(self._update_ids)

    def next_callback_id(self) -> str:
        return f"cbq-{next(self._callback_ids)}"

    def record_incoming(self, chat_id: int, raw: JSON) -> ChatMessage:
        """Keep a message a person sent (so message ids stay unique per chat, as in Telegram)."""
        message = ChatMessage(
            chat_id=chat_id,
            message_id=raw["message_id"],
            text=raw.get("text") or raw.get("caption") or "",
            from_bot=False,
            raw=raw,
            reply_to=(raw.get("reply_to_message") or {}).get("message_id"),
        )
        self.chats.setdefault(chat_id, []).append(message)
        return message

    def new_message_id(self, chat_id: int) -> int:
        counter = self._message_ids.setdefault(chat_id, itertools.count(1))
        return next(counter)

    async def deliver(self, token: str, update: JSON, *, secret_token: str | None = None) -> httpx.Response:
        """POST ``update`` to the webhook registered for ``token``, as Telegram would.

        ``secret_token`` overrides the registered secret (to forge a request).
        """
        hook = self.webhooks.get(token)
        if hook is None:
            raise AssertionError("no webhook registered for this bot (did Gridline call setWebhook?)")
        if self.webhook_client is None:
            raise AssertionError("FakeBotApi.webhook_client is not set")
        headers = {"Content-Type": "application/json"}
        secret = hook.secret_token if secret_token is None else secret_token
        if secret:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        return await self.webhook_client.post(hook.url, content=json.dumps(update), headers=headers)

    # -- the Bot API methods -------------------------------------------------------------------------

    async def _api_getMe(self, token: str, params: JSON) -> JSON:
        return _bot_user(token)

    async def _api_sendMessage(self, token: str, params: JSON) -> JSON:
        text = params.get("text")
        if not text:
            raise ApiError(400, "Bad Request: message text is empty")
        if len(str(text).encode("utf-16-le")) // 2 > 4096:
            raise ApiError(400, "Bad Request: message is too long")
        return self._store_sent(token, params, text=str(text)).raw

    async def _api_sendPhoto(self, token: str, params: JSON) -> JSON:
        photo = str(params.get("photo", ""))
        return self._store_sent(token, params, text=params.get("caption"), photo=photo).raw

    async def _api_editMessageText(self, token: str, params: JSON) -> JSON:
        message = self._find(params)
        text = str(params.get("text") or "")
        buttons = _buttons(params.get("reply_markup"))
        if text == message.text and buttons == message.buttons:
            raise ApiError(400, "Bad Request: message is not modified")
        message.edits.append(text)
        message.text = text
        message.buttons = buttons  # like Telegram: no reply_markup in the edit removes the keyboard
        message.raw = {**message.raw, "text": text, "edit_date": message.raw["date"] + 1}
        return message.raw

    async def _api_editMessageReplyMarkup(self, token: str, params: JSON) -> JSON:
        message = self._find(params)
        buttons = _buttons(params.get("reply_markup"))
        if buttons == message.buttons:
            raise ApiError(400, "Bad Request: message is not modified")
        message.buttons = buttons
        return message.raw

    async def _api_answerCallbackQuery(self, token: str, params: JSON) -> bool:
        self.callback_answers[str(params["callback_query_id"])] = params
        return True

    async def _api_setWebhook(self, token: str, params: JSON) -> bool:
        allowed = params.get("allowed_updates")
        self.webhooks[token] = Webhook(
            url=str(params["url"]), secret_token=params.get("secret_token"), allowed_updates=allowed
        )
        return True

    async def _api_deleteWebhook(self, token: str, params: JSON) -> bool:
        self.webhooks.pop(token, None)
        return True

    async def _api_getWebhookInfo(self, token: str, params: JSON) -> JSON:
        hook = self.webhooks.get(token)
        return {"url": hook.url if hook else "", "has_custom_certificate": False, "pending_update_count": 0}

    async def _api_getUpdates(self, token: str, params: JSON) -> list[JSON]:
        if token in self.webhooks:
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active")
        offset = _int_or_none(params.get("offset"))
        timeout = float(params.get("timeout") or 0)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + min(timeout, 5.0)
        while True:
            queue = self._queued.setdefault(token, [])
            if offset is not None:
                queue[:] = [u for u in queue if u["update_id"] >= offset]
            if queue or loop.time() >= deadline or self._closing:
                return list(queue)
            self._queued_changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._queued_changed.wait(), timeout=max(0.0, deadline - loop.time()))

    async def _api_getFile(self, token: str, params: JSON) -> JSON:
        file_id = str(params["file_id"])
        if file_id not in self.files:
            self.add_file(file_id, b"\xff\xd8fake-jpeg")
        path, content = self.files[file_id]
        return {"file_id": file_id, "file_unique_id": f"u-{file_id}", "file_size": len(content), "file_path": path}

    # -- helpers -----------------------------------------------------------------------------------

    def _store_sent(self, token: str, params: JSON, *, text: str | None, photo: str | None = None) -> ChatMessage:
        chat_id = _int_or_none(params.get("chat_id"))
        if chat_id is None:
            raise ApiError(400, "Bad Request: chat not found")
        message_id = self.new_message_id(chat_id)
        raw: JSON = {
            "message_id": message_id,
            "date": 1_795_000_000 + message_id,
            "chat": _chat(chat_id),
            "from": _bot_user(token),
        }
        if photo is not None:
            raw["photo"] = [{"file_id": photo, "file_unique_id": f"u-{photo}", "width": 800, "height": 600}]
            if text:
                raw["caption"] = text
        else:
            raw["text"] = text
        markup = params.get("reply_markup")
        if markup:
            raw["reply_markup"] = markup
        reply = params.get("reply_parameters") or {}
        reply_to = _int_or_none(reply.get("message_id")) or _int_or_none(params.get("reply_to_message_id"))
        message = ChatMessage(
            chat_id=chat_id,
            message_id=message_id,
            text=text or "",
            buttons=_buttons(markup),
            raw=raw,
            reply_to=reply_to,
            photo=photo,
        )
        self.chats.setdefault(chat_id, []).append(message)
        return message

    def _find(self, params: JSON) -> ChatMessage:
        chat_id = _int_or_none(params.get("chat_id"))
        message_id = _int_or_none(params.get("message_id"))
        for message in self.chats.get(chat_id or 0, []):
            if message.message_id == message_id:
                return message
        raise ApiError(400, "Bad Request: message to edit not found")


class ApiError(Exception):
    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


def _error(status: int, description: str, retry_after: int | None = None) -> web.Response:
    body: JSON = {"ok": False, "error_code": status, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    return web.json_response(body, status=status)


async def _read_params(request: web.Request) -> JSON:
    """The call's parameters, whatever the encoding (PTB posts JSON, aiogram posts multipart forms)."""
    params: JSON = dict(request.query)
    if request.method != "POST" or not request.can_read_body:
        return params
    if request.content_type == "application/json":
        body = await request.json()
        params.update(body or {})
        return params
    form = await request.post()
    for key, value in form.items():
        if isinstance(value, str):
            params[key] = _maybe_json(value)
        else:  # an uploaded file
            params[key] = f"upload:{getattr(value, 'filename', key)}"
    return params


def _maybe_json(value: str) -> Any:
    if value[:1] in "{[":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _int_or_none(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _buttons(markup: Any) -> list[list[JSON]]:
    if isinstance(markup, str):
        markup = _maybe_json(markup)
    if not isinstance(markup, dict):
        return []
    return [list(row) for row in markup.get("inline_keyboard", [])]


def _chat(chat_id: int) -> JSON:
    if chat_id > 0:
        return {"id": chat_id, "type": "private", "first_name": f"user{chat_id}"}
    return {"id": chat_id, "type": "group", "title": f"group{chat_id}"}


def bot_id(token: str) -> int:
    return int(token.split(":", 1)[0])


def _bot_user(token: str) -> JSON:
    return {
        "id": bot_id(token),
        "is_bot": True,
        "first_name": "网格热线",
        "username": f"gridline_{bot_id(token)}_bot",
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
    }
