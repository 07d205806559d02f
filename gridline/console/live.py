"""Server-sent events: new and changed cases reach open console pages without reloading.

Each connection subscribes to the ``cases`` topic and forwards only the events of cases the viewer
may see (a supervisor never receives another grid's events). The stream ends when the login ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from typing import Any

from gridline.console.access import Viewer, can_see_event
from gridline.kernel.services import Services
from gridline.kernel.work import Work, in_transaction

KEEPALIVE_SECONDS = 15.0
# Only these fields leave the server; the topic may carry more in future.
FORWARDED = ("type", "case_id", "ref", "grid_code", "status", "category", "priority")


def sse_frame(event: str, data: dict[str, Any]) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


CONNECTED = ": connected"  # what ``watch`` yields once it listens
KEEPALIVE = ": keep-alive"  # … and when nothing happened for ``keepalive`` seconds


async def watch(
    services: Services,
    topic: str,
    *,
    still_logged_in: Callable[[], Awaitable[bool]],
    keepalive: float = KEEPALIVE_SECONDS,
) -> AsyncGenerator[dict[str, Any] | str, None]:
    """The events of ``topic`` for one console stream: :data:`CONNECTED` once it listens (so no
    event published after that is missed), then each event, :data:`KEEPALIVE` after a quiet spell;
    it ends when the login does. Use it with ``contextlib.aclosing`` so a closed stream unsubscribes."""
    subscription = services.events.subscribe(topic).__aiter__()
    pending: asyncio.Future[dict[str, Any]] | None = asyncio.ensure_future(subscription.__anext__())
    await asyncio.sleep(0)
    try:
        yield CONNECTED
        while True:
            if pending is None:
                pending = asyncio.ensure_future(subscription.__anext__())
            done, _ = await asyncio.wait({pending}, timeout=keepalive)
            if not done:
                if not await still_logged_in():
                    return
                yield KEEPALIVE
                continue
            try:
                event = pending.result()
            except StopAsyncIteration:
                return
            finally:
                pending = None
            yield event
    finally:
        if pending is not None:
            pending.cancel()
            with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration, Exception):
                await pending
        aclose = getattr(subscription, "aclose", None)
        if aclose is not None:
            with contextlib.suppress(Exception):
                await aclose()


def comment(marker: str) -> str:
    """The SSE text of a :func:`watch` marker (``retry`` goes with the first)."""
    return "retry: 5000\n: connected\n\n" if marker == CONNECTED else f"{marker}\n\n"


async def scoped_case_events(
    services: Services,
    viewer: Viewer,
    *,
    still_logged_in: Callable[[], Awaitable[bool]],
    keepalive: float = KEEPALIVE_SECONDS,
) -> AsyncIterator[str]:
    """SSE frames for ``viewer``: the events they may see, and comments as keep-alives."""
    events = watch(services, "cases", still_logged_in=still_logged_in, keepalive=keepalive)
    async with contextlib.aclosing(events):
        async for event in events:
            if isinstance(event, str):
                yield comment(event)
            elif await _visible(services, viewer, event):
                yield sse_frame(str(event.get("type", "case.updated")), {k: event.get(k) for k in FORWARDED})


async def _visible(services: Services, viewer: Viewer, event: dict[str, Any]) -> bool:
    if viewer.role == "leader" or (event.get("grid_code") is None and viewer.staff_id is not None):
        return await in_transaction(services, _visible_in, viewer, event)
    return can_see_event(viewer, event)


def _visible_in(work: Work, viewer: Viewer, event: dict[str, Any]) -> bool:
    return can_see_event(viewer, event, work.session)
