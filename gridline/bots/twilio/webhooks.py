"""The SMS webhook and the status callback webhook (the voice ones are in ``voice_hotline`` and
``voice_page``). Every one checks the signature first (``signature``).

``POST /webhooks/twilio/sms`` and ``POST /webhooks/twilio/status`` are a pure ASGI lane
(:class:`TwilioLane`) in front of the application's routing, as the Telegram webhook is
(``bots.telegram.webhook``): the SMS endpoint is the one a flood hits, the status callbacks come
several per text and call sent, and the router's walk over every route, dependency solving and a
``Request`` / ``Response`` per webhook were most of their cost (``bench/ingest_bench.py --channels
sms``, docs/performance.md). The statuses and bodies are the routes': 413 too large (before reading
it when ``Content-Length`` says so), 403 missing or bad signature (nothing stored or changed), 415
not a form, 400 too many fields; for a text 400 without ``MessageSid`` / ``From`` and the empty TwiML
once the text is stored; for a status 400 "not a status callback" and 204 once it is applied. An
error while storing or applying propagates to the server's error middleware (500). The voice
follow-up call's own status callback (``voice_followup``) stays a route.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Request
from starlette.types import ASGIApp, Receive, Scope, Send
from twilio.twiml.messaging_response import MessagingResponse

from gridline.bots.twilio.signature import SIGNATURE_HEADER, FormRefused, SignedForm, check_signed_form
from gridline.bots.twilio.statuses import call_update, message_update
from gridline.core.inbox import store_event
from gridline.edge.lanes import Answer, post_path, read_body, send_answer
from gridline.kernel.services import Services
from gridline.routing.provider_status import record_provider_status

log = logging.getLogger(__name__)
TWIML = "application/xml"


def services_of(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


SMS_PATH = "/webhooks/twilio/sms"
STATUS_PATH = "/webhooks/twilio/status"
_SIGNATURE_HEADER = SIGNATURE_HEADER.lower().encode("latin-1")


def _answer(status: int, body: bytes, content_type: bytes | None) -> Answer:
    # What the FastAPI route sent for the same answer (Starlette's Response), rendered once.
    headers = [(b"content-length", str(len(body)).encode())] if status != 204 else []
    if content_type is not None:
        headers.append((b"content-type", content_type))
    return status, headers, body


STORED = _answer(200, str(MessagingResponse()).encode(), TWIML.encode())
NO_SID = _answer(400, b"missing MessageSid or From", None)
APPLIED = _answer(204, b"", None)
NOT_A_STATUS = _answer(400, b"not a status callback", None)


def _refused(refused: FormRefused) -> Answer:
    # FastAPI's answer to an HTTPException: {"detail": …} as compact JSON.
    body = json.dumps({"detail": refused.detail}, ensure_ascii=False, separators=(",", ":")).encode()
    return _answer(refused.http_status, body, b"application/json")


class TwilioLane:
    """Pure ASGI middleware: ``POST /webhooks/twilio/sms`` and ``POST /webhooks/twilio/status`` are
    answered here; everything else goes on to the application unchanged."""

    def __init__(self, app: ASGIApp, services: Services) -> None:
        self.app = app
        self.services = services
        self.cap = services.settings.limits.twilio_body_bytes  # the edge's cap for /webhooks/twilio
        self.handlers: dict[str | None, Callable[[SignedForm], Awaitable[Answer]]] = {
            SMS_PATH: self.store, STATUS_PATH: self.status}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        handler = self.handlers.get(post_path(scope))
        if handler is None:
            await self.app(scope, receive, send)
            return
        length: bytes | None = None
        signature = b""
        content_type = b""
        for name, value in scope["headers"]:
            # The first of a repeated header, as Starlette's ``Headers.get`` (the route's) read it.
            if name == b"content-length" and length is None:
                length = value
            elif name == _SIGNATURE_HEADER and not signature:
                signature = value
            elif name == b"content-type" and not content_type:
                content_type = value
        body = await read_body(length, receive, send, self.cap)
        if body is None:  # refused as too large, or the client went away: nothing to store
            return
        form = self.signed(scope, body, signature, content_type)
        await send_answer(send, form if not isinstance(form, SignedForm) else await handler(form))

    def signed(self, scope: Scope, body: bytes, signature: bytes, content_type: bytes) -> SignedForm | Answer:
        """The verified form of a webhook, or the answer refusing it (nothing stored or changed)."""
        settings = self.services.settings
        path: str = scope["path"]
        url = settings.server.public_base_url.rstrip("/") + path  # the URL Twilio signed (``public_url``)
        query = scope.get("query_string", b"")
        if query:
            url += "?" + query.decode("utf-8", "replace")  # undecodable: cannot match, so 403
        try:
            return check_signed_form(settings, url, signature.decode("latin-1"), body,
                                     content_type.decode("latin-1"), path)
        except FormRefused as refused:
            return _refused(refused)

    async def store(self, form: SignedForm) -> Answer:
        """An inbound text: stored once per MessageSid before the empty TwiML."""
        sid = form.get("MessageSid") or form.get("SmsSid")
        if not sid or not form.get("From"):
            return NO_SID
        _, is_new = await store_event(self.services, "twilio:sms", sid, form.fields)
        if not is_new:
            log.info("inbound SMS %s received again; already stored", sid)
        # The replies go out through the REST API (the outbox), so they are logged and retried.
        return STORED

    async def status(self, form: SignedForm) -> Answer:
        """A message or call status. Applied at once: the provider's order decides (``statuses``)."""
        is_message = bool(form.get("MessageSid") or form.get("SmsSid"))
        update = message_update(form.fields) if is_message else call_update(form.fields)
        if update is None:
            return NOT_A_STATUS
        outcome = await record_provider_status(self.services, update.sid, update.status, update.seq, update.error)
        log.debug("status %s %s (seq %s) → %s", update.sid, update.raw, update.seq, outcome)
        return APPLIED


def install_lanes(app: Any, services: Services) -> None:
    """Put the Twilio lane (SMS and status callbacks) in front of the application's routing."""
    app.add_middleware(TwilioLane, services=services)
