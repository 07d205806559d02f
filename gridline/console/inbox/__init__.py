"""The staff web inbox at ``/console/inbox``: leaders, members, department staff and supervisors see
the pages waiting for them and the cases they hold, and acknowledge / resolve / escalate / reassign /
note them — through the same domain actions as a Telegram button or an SMS reply
(:mod:`gridline.routing.actions`), on channel ``web``.

It sits behind the console's login (same sessions, same CSRF token on every POST); staff without a
console account sign in with a one-time link sent on their own channel (:mod:`.links`). It installs
as a PWA (manifest + service worker served here) and receives web push (:mod:`gridline.bots.web.push`).
Everything it shows is scoped to the signed-in person's staff record: a case that was never paged to
them and is not theirs answers 404, like a case that does not exist.
"""

from __future__ import annotations

from fastapi import APIRouter


def build_router() -> APIRouter:
    from gridline.console.inbox import links, loop, pwa, views

    router = APIRouter()
    for module in (links, views, loop, pwa):
        router.include_router(module.router)
    return router
