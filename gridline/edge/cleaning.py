"""Control characters out of every query string and form body, before any route reads them (ASGI).

A console filter, a merge's case reference or an Open311 ``service_code`` holding ``%00`` reached
PostgreSQL, which refuses NUL in a text parameter: the request was a 500 (SQLite let it through).
Here they are removed where they arrive, percent-encoded or raw — the same characters
:func:`gridline.edge.text.clean_text` removes from provider payloads, minus the lone surrogates that
UTF-8 cannot carry anyway — so no route has to remember. A path holding one names nothing: 404.

Provider webhooks (``/webhooks/…``) pass untouched: their signatures cover the exact URL and body,
and their lanes clean what they store themselves. JSON and multipart bodies are left to their
readers (the sandbox's API and the evidence upload clean theirs).
"""

from __future__ import annotations

import re

from starlette.types import ASGIApp, Receive, Scope, Send

from gridline.edge.bodylimit import read_capped, refuse, replay_body
from gridline.edge.text import clean_text

# %00–%08, %0B, %0C, %0E–%1F, %7F and the C1 controls (UTF-8 C2 80 … C2 9F), percent-encoded or raw.
_ENCODED_CONTROL = re.compile(
    rb"%(?:0[0-8bBcCeEfF]|1[0-9a-fA-F]|7[fF]|[cC]2%[89][0-9a-fA-F])|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]|\xc2[\x80-\x9f]"
)
SIGNED_PREFIX = "/webhooks/"
FORM = b"application/x-www-form-urlencoded"


# Credentials are compared exactly as sent, never cleaned (an api_key "k-test%00" is not "k-test");
# they are checked in Python, never sent to the database.
AS_SENT = frozenset({b"api_key", b"password", b"csrf_token"})


def clean_urlencoded(data: bytes) -> bytes:
    """A query string or urlencoded form without the control characters a person never types (the
    values of :data:`AS_SENT` fields are left as they are)."""
    if not _ENCODED_CONTROL.search(data):
        return data
    pairs = data.split(b"&")
    return b"&".join(
        pair if pair.split(b"=", 1)[0] in AS_SENT else _ENCODED_CONTROL.sub(b"", pair) for pair in pairs
    )


class CleanInput:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(SIGNED_PREFIX):
            await self.app(scope, receive, send)
            return
        if clean_text(scope["path"]) != scope["path"]:
            await refuse(send, 404, "Not Found")
            return
        query = scope.get("query_string") or b""
        cleaned = clean_urlencoded(query)
        if cleaned != query:
            scope = {**scope, "query_string": cleaned}
        if scope["method"] in ("POST", "PUT", "PATCH"):
            headers = scope.get("headers") or []
            content_type = next((v for k, v in headers if k == b"content-type"), b"")
            if content_type.split(b";")[0].strip().lower() == FORM:
                # Already capped by BodyLimit (outside this middleware): read it whole.
                body = await read_capped(None, receive, 2**62)
                if body is None:
                    return
                clean = clean_urlencoded(body)
                if clean != body:
                    scope = {**scope, "headers": [(k, str(len(clean)).encode() if k == b"content-length" else v)
                                                  for k, v in headers]}
                receive = replay_body(clean, receive)
        await self.app(scope, receive, send)


def install_clean_input(app: ASGIApp) -> None:
    """Add the middleware; call it before ``install_body_limit`` so the body cap runs first."""
    app.add_middleware(CleanInput)  # type: ignore[attr-defined]
