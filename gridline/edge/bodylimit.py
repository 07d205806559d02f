"""Request bodies read with a cap before any route parses them (ASGI middleware).

A body announced larger than its path's cap (``Content-Length``) is refused with 413 before a byte
is read; a body without a length is read chunk by chunk and refused the moment it passes the cap,
so an oversized upload is never read whole. What fits is handed to the app unchanged. JSON bodies
are also checked for nesting depth here (400), before FastAPI's ``json.loads`` recurses into them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gridline.edge.jsonbody import json_depth


@dataclass(frozen=True)
class BodyCap:
    """The largest body accepted under ``prefix`` (the longest matching prefix wins)."""

    prefix: str
    max_bytes: int


class BodyLimit:
    def __init__(self, app: ASGIApp, caps: Sequence[BodyCap], default_bytes: int, max_json_depth: int) -> None:
        self.app = app
        self.caps = sorted(caps, key=lambda cap: len(cap.prefix), reverse=True)
        self.default_bytes = default_bytes
        self.max_json_depth = max_json_depth

    def cap_for(self, path: str) -> int:
        return next((cap.max_bytes for cap in self.caps if path.startswith(cap.prefix)), self.default_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        cap = self.cap_for(scope["path"])
        headers = dict(scope.get("headers") or [])
        try:
            body = await read_capped(headers.get(b"content-length"), receive, cap)
        except BodyTooLarge as refused:
            await refuse(send, 413, str(refused))
            return
        if body is None:
            return
        content_type = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        if content_type.endswith(b"json") and json_depth(body) > self.max_json_depth:
            await refuse(send, 400, f"JSON nested deeper than {self.max_json_depth} levels")
            return
        await self.app(scope, replay_body(body, receive), send)


class BodyTooLarge(ValueError):
    """The body is (or announces itself) larger than its cap."""


async def read_capped(content_length: bytes | None, receive: Receive, cap: int) -> bytes | None:
    """The request's body, refused (:class:`BodyTooLarge`) as soon as it is known to pass ``cap``:
    before a byte is read when ``Content-Length`` says so, else the moment the chunks pass it.
    None when the client went away first."""
    if content_length is not None and (not content_length.isdigit() or int(content_length) > cap):
        raise BodyTooLarge(f"body larger than {cap} bytes")
    chunks: list[bytes] = []
    size = 0
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > cap:
            raise BodyTooLarge(f"body larger than {cap} bytes")
        chunks.append(chunk)
        more = message.get("more_body", False)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def replay_body(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # after the body: wait for the disconnect, as Starlette expects

    return replay


async def refuse(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    headers: list[tuple[bytes, bytes]] = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def install_body_limit(app: Any, settings: Any) -> None:
    """Add the middleware with the caps of ``[limits]`` (see docs/operations.md)."""
    limits = settings.limits
    caps = [
        BodyCap("/webhooks/twilio", limits.twilio_body_bytes),
        BodyCap("/webhooks/telegram", limits.telegram_body_bytes),
        # Evidence photos: twice the largest accepted photo still reaches the view, which answers
        # "too large" in the page; beyond that the upload is refused before it is read.
        BodyCap("/console/evidence", 2 * settings.evidence.max_bytes + 65536),
        BodyCap("/sandbox/api/evidence", 2 * settings.evidence.max_bytes + 65536),
    ]
    app.add_middleware(BodyLimit, caps=caps, default_bytes=limits.body_bytes, max_json_depth=limits.json_depth)
