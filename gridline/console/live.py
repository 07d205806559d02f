"""Server-sent events: new and changed cases reach open console pages without reloading.

Each connection subscribes to the ``cases`` topic and forwards only the events of cases the viewer
may see (a supervisor never receives another grid's events). The stream ends when the login ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from gridline.console.access import Viewer, can_see_event
from gridline.kernel.services import Services
from gridline.kernel.work import Work, in_transaction

KEEPALIVE_SECONDS = 15.0
# Only these fields leave the server; the topic may carry more in future.
FORWARDED = ("type", "case_id", "ref", "grid_code", "status", "category", "priority")


def sse_frame(event: str, data: dict[str, Any]) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


async def scoped_case_events(
    services: Services,
    viewer: Viewer,
    *,
    still_logged_in: Callable[[], Awaitable[bool]],
    keepalive: float = KEEPALIVE_SECONDS,
) -> AsyncIterator[str]:
    """SSE frames for ``viewer``: the events they may see, and comments as keep-alives."""
    subscription = services.events.subscribe("cases").__aiter__()
    # Start listening before saying "connected", so no event published after that is missed.
    pending: asyncio.Future[dict[str, Any]] | None = asyncio.ensure_future(subscription.__anext__())
    await asyncio.sleep(0)
    try:
        yield "retry: 5000\n: connected\n\n"
        while True:
            if pending is None:
                pending = asyncio.ensure_future(subscription.__anext__())
            done, _ = await asyncio.wait({pending}, timeout=keepalive)
            if not done:
                if not await still_logged_in():
                    return
                yield ": keep-alive\n\n"
                continue
            try:
                event = pending.result()
            except StopAsyncIteration:
                return
            finally:
                pending = None
            if await _visible(services, viewer, event):
                yield sse_frame(str(event.get("type", "case.updated")), {k: event.get(k) for k in FORWARDED})
    finally:
        if pending is not None:
            pending.cancel()
            with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration, Exception):
                await pending
        aclose = getattr(subscription, "aclose", None)
        if aclose is not None:
            with contextlib.suppress(Exception):
                await aclose()


async def _visible(services: Services, viewer: Viewer, event: dict[str, Any]) -> bool:
    if viewer.role == "leader" or (event.get("grid_code") is None and viewer.staff_id is not None):
        return await in_transaction(services, _visible_in, viewer, event)
    return can_see_event(viewer, event)


def _visible_in(work: Work, viewer: Viewer, event: dict[str, Any]) -> bool:
    return can_see_event(viewer, event, work.session)
