"""The supervisor console at ``/console``: review conversations and cases, correct the NLU, measure
grids and leaders by residents' satisfaction.

Server-rendered (Jinja2), zh-CN by default with English, a little vendored JavaScript for live
updates; no CDN. ``install_routes(app, services)`` is called by :func:`gridline.app.create_app`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

import gridline.storage.models.console  # noqa: F401  (registers console_sessions on the metadata)
from gridline.console.http import (
    PREFIX,
    ConsoleState,
    CsrfFailed,
    Forbidden,
    LoginRequired,
    NotFound,
    redirect,
    request_language,
    safe_next,
    state_of,
)
from gridline.console.rendering import Renderer
from gridline.edge.text import clean_payload
from gridline.kernel.services import Services

STATIC = Path(__file__).parent / "static"

# Everything the console shows comes from this server: scripts, styles, images. Inline scripts are
# refused, so text that slipped through escaping still could not run.
SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
}


def build_router() -> APIRouter:
    from gridline.console.views import (
        actions,
        admin,
        auth,
        broadcasts,
        cases,
        checkins,
        conversations,
        dashboard,
        evidence,
        followups,
        households,
        transfers,
    )

    router = APIRouter(prefix=PREFIX, include_in_schema=False)
    router.add_api_route("", cases.home, methods=["GET"])
    router.add_api_route("/", cases.home, methods=["GET"])
    for module in (auth, cases, conversations, dashboard, actions, admin, households, followups, evidence, broadcasts,
                   checkins, transfers):
        router.include_router(module.router)
    from gridline.console.inbox import build_router as build_inbox_router

    router.include_router(build_inbox_router())
    return router


class SecurityHeaders:
    """Pure ASGI middleware adding :data:`SECURITY_HEADERS` to console responses (streaming-safe)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not scope.get("path", "").startswith(PREFIX):
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                for name, value in SECURITY_HEADERS.items():
                    if name.encode() not in present:
                        headers.append((name.encode(), value.encode()))
                if not scope["path"].startswith(PREFIX + "/static") and b"cache-control" not in present:
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _error_page(request: Request, status_code: int, key: str) -> Response:
    state = state_of(request)
    lang = request_language(request)
    accept = request.headers.get("accept", "")
    if "application/json" in accept or "text/event-stream" in accept:
        return Response(status_code=status_code)
    html = state.renderer.render("error.html", lang, status_code=status_code, message_key=key,
                                 path=request.url.path, full_path=request.url.path)
    return HTMLResponse(html, status_code=status_code)


def _browser_form(request: Request) -> bool:
    """A form the browser navigates with (not a fetch/JSON call): it accepts HTML and posts a form."""
    content_type = request.headers.get("content-type", "")
    return "text/html" in request.headers.get("accept", "") and content_type.startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data"))


def _referring_page(request: Request) -> str:
    """The console page a form was sent from (its Referer, when it is this server's), else the case list."""
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.netloc and referer.netloc != request.url.netloc:
        return safe_next(None)
    page = referer.path + (f"?{referer.query}" if referer.query else "")
    return safe_next(page) if referer.path != f"{PREFIX}/login" else safe_next(None)


def install_routes(app: FastAPI, services: Services) -> None:
    """Mount the console on ``app``."""
    app.state.console = ConsoleState(services=services, renderer=Renderer(services.settings.timezone))
    app.include_router(build_router())
    app.mount(f"{PREFIX}/static", StaticFiles(directory=str(STATIC)), name="console-static")
    app.add_middleware(SecurityHeaders)

    async def login_required(request: Request, exc: Exception) -> Response:
        accept = request.headers.get("accept", "")
        inbox = request.url.path.startswith(f"{PREFIX}/inbox")
        if request.method == "GET" and "text/event-stream" not in accept and "application/json" not in accept:
            if inbox:
                # Staff on a phone land on the inbox's own sign-in page (password or one-time link).
                return redirect(f"{PREFIX}/inbox/login")
            return redirect(f"{PREFIX}/login", next=str(request.url.path)
                            + (f"?{request.url.query}" if request.url.query else ""))
        if request.method == "POST" and _browser_form(request):
            # A form sent after the session ended: the sign-in page (not the browser's bare "401"
            # error), saying that nothing was saved, then back to the page the form was on.
            if inbox:
                return redirect(f"{PREFIX}/inbox/login", expired="1")
            return redirect(f"{PREFIX}/login", next=_referring_page(request), expired="1")
        return Response(status_code=401)

    async def forbidden(request: Request, exc: Exception) -> Response:
        return _error_page(request, 403, "error.forbidden")

    async def not_found(request: Request, exc: Exception) -> Response:
        return _error_page(request, 404, "error.not_found")

    async def csrf_failed(request: Request, exc: Exception) -> Response:
        return _error_page(request, 403, "error.csrf")

    def _validation_errors(exc: RequestValidationError) -> Response:
        # FastAPI's 422, with the input it echoes cleaned: a lone surrogate ("\ud800" in the JSON)
        # cannot be encoded as UTF-8, and the answer to a malformed body became a 500.
        return JSONResponse(status_code=422, content={"detail": clean_payload(jsonable_encoder(exc.errors()))})

    async def unmatched(request: Request, exc: Exception) -> Response:
        # Starlette's 404 (no such route) and 405 (a GET of a form-only address), and FastAPI's 422
        # for a path id that is not a number: inside the console, its own error page, not JSON.
        path = request.url.path
        inside = path.startswith(PREFIX) and not path.startswith(f"{PREFIX}/static")
        if isinstance(exc, RequestValidationError):
            if inside and all(error.get("loc", ("",))[0] == "path" for error in exc.errors()):
                return _error_page(request, 404, "error.not_found")
            return _validation_errors(exc)
        assert isinstance(exc, StarletteHTTPException)
        if inside and exc.status_code in (404, 405):
            response = _error_page(request, exc.status_code,
                                   "error.not_found" if exc.status_code == 404 else "error.method")
            if exc.headers:
                response.headers.update(exc.headers)
            return response
        return await http_exception_handler(request, exc)

    app.add_exception_handler(StarletteHTTPException, unmatched)
    app.add_exception_handler(RequestValidationError, unmatched)
    app.add_exception_handler(LoginRequired, login_required)
    app.add_exception_handler(Forbidden, forbidden)
    app.add_exception_handler(NotFound, not_found)
    app.add_exception_handler(CsrfFailed, csrf_failed)
