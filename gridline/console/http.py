"""Request plumbing shared by the console's views: the logged-in context, CSRF, language, responses.

A view hands its body to :func:`in_console`: the body runs in one transaction in a database thread
(never on the event loop, so a slow list or dashboard query freezes nothing else) with a
:class:`ConsoleContext` holding the unit of work, the viewer and their scope, the grid tree and the
current time from the injected clock, and returns the response (rendered in that thread too).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import urlencode, urlsplit
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlmodel import Session

from gridline.console import security
from gridline.console.access import Viewer, load_viewer
from gridline.console.grids import GridTree
from gridline.console.rendering import Renderer
from gridline.console.sessions import SESSION_COOKIE, lookup_session
from gridline.i18n import normalise_language
from gridline.kernel.services import Services
from gridline.kernel.work import Work, in_transaction
from gridline.storage.models.console import ConsoleSession

PREFIX = "/console"
LANG_COOKIE = "gridline_console_lang"
LOGIN_CSRF_COOKIE = "gridline_console_login"
LOGIN_CSRF_PURPOSE = "console-login-csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"

T = TypeVar("T")


class LoginRequired(Exception):
    """No live session: HTML pages redirect to the login form, fetch/SSE calls get 401."""


class Forbidden(Exception):
    """The viewer's role may not do this."""


class NotFound(Exception):
    """Unknown, or outside the viewer's scope (both look the same from outside)."""


class CsrfFailed(Exception):
    """A POST without the session's CSRF token."""


@dataclass
class ConsoleState:
    """What the console keeps for the life of the app (one per ``install``)."""

    services: Services
    renderer: Renderer


def state_of(request: Request) -> ConsoleState:
    state: ConsoleState = request.app.state.console
    return state


def request_language(request: Request, user_lang: str | None = None) -> str:
    """The language of the page: the switch cookie, else the user's, else the configured default."""
    cookie = request.cookies.get(LANG_COOKIE)
    if cookie:
        return normalise_language(cookie)
    if user_lang:
        return normalise_language(user_lang)
    return normalise_language(state_of(request).services.settings.default_language)


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def safe_next(target: str | None) -> str:
    """Only redirect back into the console (no open redirect to another site)."""
    if not target:
        return f"{PREFIX}/cases"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith(PREFIX) or target.startswith("//"):
        return f"{PREFIX}/cases"
    return target


@dataclass
class ConsoleContext:
    request: Request
    services: Services
    renderer: Renderer
    work: Work
    session: Session
    viewer: Viewer
    login: ConsoleSession
    tree: GridTree
    now: datetime
    lang: str
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def tz(self) -> ZoneInfo:
        return self.renderer.tz

    @property
    def csrf(self) -> str:
        return self.login.csrf_token

    def text(self, key: str, **params: Any) -> str:
        from gridline.console.rendering import console_text

        return console_text(key, self.lang, **params)

    def due(self, at: datetime | None) -> str:
        """``限时 12月3日 17:00（2个工作日）`` in the viewer's language ("" without a deadline)."""
        from gridline.i18n.phrases import render
        from gridline.routing.deadlines import due_phrase

        due = due_phrase(self.services.settings, at, self.now)
        return render(due, self.lang) if due is not None else ""

    def render(self, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        html = self.renderer.render(
            template,
            self.lang,
            viewer=self.viewer,
            csrf=self.csrf,
            tree=self.tree,
            now=self.now,
            path=self.request.url.path,
            due=self.due,
            full_path=str(self.request.url.path)
            + (f"?{self.request.url.query}" if self.request.url.query else ""),
            **context,
        )
        return HTMLResponse(html, status_code=status_code)


def check_csrf(expected: str, form: Mapping[str, Any] | None, request: Request) -> None:
    given = request.headers.get(CSRF_HEADER)
    if not given and form is not None:
        value = form.get(CSRF_FIELD)
        given = value if isinstance(value, str) else None
    if not security.same_token(expected, given):
        raise CsrfFailed()


async def in_console(
    request: Request, body: Callable[[ConsoleContext], T], *, form: Mapping[str, Any] | None = None
) -> T:
    """Run ``body(ctx)`` for the logged-in viewer in one transaction in a database thread.

    For POSTs pass the parsed ``form`` (read it on the loop first) to check its CSRF token. The
    transaction commits when the body returns; ``LoginRequired``, ``Forbidden``... roll it back.
    """
    state = state_of(request)

    def run(work: Work) -> T:
        return body(_context(work, request, state, form))

    return await in_transaction(state.services, run)


def _context(work: Work, request: Request, state: ConsoleState, form: Mapping[str, Any] | None) -> ConsoleContext:
    services = state.services
    found = lookup_session(
        work.session, request.cookies.get(SESSION_COOKIE), now=work.now, secret=services.settings.server.secret_key
    )
    if found is None:
        raise LoginRequired()
    login, user = found
    if request.method not in ("GET", "HEAD"):
        check_csrf(login.csrf_token, form, request)
    tree = GridTree.load(work.session)
    viewer = load_viewer(work.session, user, tree)
    return ConsoleContext(
        request=request,
        services=services,
        renderer=state.renderer,
        work=work,
        session=work.session,
        viewer=viewer,
        login=login,
        tree=tree,
        now=work.now,
        lang=request_language(request, user.lang),
    )


def redirect(path: str, **query: str) -> RedirectResponse:
    """A 303 (see other) so that a POST is followed by a GET."""
    url = path + ("?" + urlencode(query) if query else "")
    return RedirectResponse(url, status_code=303)



