"""What the webhook lanes share: small ASGI middlewares that answer one provider's webhook before
the application's routing (``bots.telegram.webhook.WebhookLane``, ``bots.twilio.webhooks.TwilioLane``).

They skip FastAPI's routing and request objects because the webhook is the hottest path there is;
these are the two pieces of raw ASGI each needs: which POST path a request is for, and sending a
whole answer at once."""

from __future__ import annotations

from starlette.types import Receive, Scope, Send

from gridline.edge.bodylimit import BodyTooLarge, read_capped, refuse

# (status, headers, body): a whole response, sent in one go.
Answer = tuple[int, list[tuple[bytes, bytes]], bytes]


def post_path(scope: Scope) -> str | None:
    """The path of an HTTP POST below the application's root path, else None."""
    if scope["type"] != "http" or scope["method"] != "POST":
        return None
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root):]
    return path


async def send_answer(send: Send, answer: Answer) -> None:
    status, headers, body = answer
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def read_body(length: bytes | None, receive: Receive, send: Send, cap: int) -> bytes | None:
    """The request's body, at most ``cap`` bytes; None when it was refused (413, already sent) or the
    client went away before it was read (nothing to store, nothing to answer)."""
    try:
        return await read_capped(length, receive, cap)
    except BodyTooLarge as too_large:
        await refuse(send, 413, str(too_large))
        return None
