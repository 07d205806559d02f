"""Login, logout and the language switch."""

from __future__ import annotations

import math

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from gridline.console import security
from gridline.console.http import (
    LANG_COOKIE,
    LOGIN_CSRF_COOKIE,
    LOGIN_CSRF_PURPOSE,
    PREFIX,
    ConsoleContext,
    client_ip,
    in_console,
    redirect,
    request_language,
    safe_next,
    state_of,
)
from gridline.console.rendering import local_time
from gridline.console.sessions import SESSION_COOKIE, log_in, lookup_session, revoke_session
from gridline.edge.ratelimit import rate_limits
from gridline.i18n import normalise_language
from gridline.kernel.work import Work, in_transaction

router = APIRouter()


def _login_page(request: Request, *, error: str = "", name: str = "", status_code: int = 200) -> HTMLResponse:
    state = state_of(request)
    secret = state.services.settings.server.secret_key
    # A pre-session CSRF token: a random value in an HttpOnly cookie, its signature in the form.
    token = security.unsign(secret, LOGIN_CSRF_PURPOSE, request.cookies.get(LOGIN_CSRF_COOKIE))
    fresh = token is None
    token = token or security.new_token()
    lang = request_language(request)
    html = state.renderer.render(
        "login.html",
        lang,
        error=error,
        notice=_t("login.expired", lang) if request.query_params.get("expired") == "1" else "",
        name=name,
        next=safe_next(request.query_params.get("next")),
        login_csrf=security.sign(secret, LOGIN_CSRF_PURPOSE + ":form", token),
        path=request.url.path,
        full_path=request.url.path,
    )
    response = HTMLResponse(html, status_code=status_code)
    if fresh:
        response.set_cookie(
            LOGIN_CSRF_COOKIE,
            security.sign(secret, LOGIN_CSRF_PURPOSE, token),
            httponly=True,
            samesite="lax",
            secure=state.services.settings.secure_cookies,
            path=PREFIX,
        )
    return response


def _retry_after(response: Response, seconds: float) -> Response:
    """A 429 says when to try again (docs/operations.md: "Over a limit: 429 with Retry-After")."""
    response.headers["Retry-After"] = str(max(1, math.ceil(seconds)))
    return response


@router.get("/login", response_class=HTMLResponse)
async def login_form(request: Request) -> Response:
    state = state_of(request)

    def body(work: Work) -> bool:
        cookie = request.cookies.get(SESSION_COOKIE)
        secret = state.services.settings.server.secret_key
        return lookup_session(work.session, cookie, now=work.now, secret=secret) is not None

    if await in_transaction(state.services, body):
        return redirect(safe_next(request.query_params.get("next")))
    return _login_page(request)


@router.post("/login")
async def login_submit(request: Request) -> Response:
    state = state_of(request)
    services = state.services
    secret = services.settings.server.secret_key
    lang = request_language(request)
    verdict = await rate_limits(services).hit("login_per_ip", client_ip(request) or "unknown")
    if not verdict.allowed:
        return _retry_after(_login_page(request, error=_t("login.too_many", lang), status_code=429),
                            verdict.retry_after)
    form = await request.form()
    name = str(form.get("name", "")).strip()[:100]
    password = str(form.get("password", ""))
    cookie_token = security.unsign(secret, LOGIN_CSRF_PURPOSE, request.cookies.get(LOGIN_CSRF_COOKIE))
    form_token = security.unsign(secret, LOGIN_CSRF_PURPOSE + ":form", str(form.get("csrf_token", "")))
    if not security.same_token(cookie_token, form_token):
        return _login_page(request, error=_t("login.csrf", lang), name=name, status_code=403)
    verdict = await rate_limits(services).hit("login_per_account", name.casefold())
    if not verdict.allowed:
        return _retry_after(_login_page(request, error=_t("login.too_many", lang), name=name, status_code=429),
                            verdict.retry_after)

    outcome = await log_in(services, name=name, password=password, ip=client_ip(request),
                           user_agent=request.headers.get("user-agent"))
    if not outcome.ok:
        if outcome.reason in ("wait", "locked") and outcome.retry_at is not None:
            until = local_time(outcome.retry_at, state.renderer.tz, "%H:%M:%S")
            error = _t(f"login.{outcome.reason}", lang, until=until)
            wait = (outcome.retry_at - services.clock.now()).total_seconds()
            return _retry_after(_login_page(request, error=error, name=name, status_code=429), wait)
        return _login_page(request, error=_t("login.bad_credentials", lang), name=name, status_code=401)

    response = RedirectResponse(safe_next(str(form.get("next", ""))), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        outcome.cookie or "",
        max_age=services.settings.console.session_hours * 3600,
        httponly=True,
        samesite="lax",
        secure=services.settings.secure_cookies,
        path=PREFIX,
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path=PREFIX)
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    form = await request.form()

    def body(ctx: ConsoleContext) -> None:
        revoke_session(ctx.session, ctx.login, now=ctx.now, actor=ctx.viewer.actor, ip=client_ip(request))

    await in_console(request, body, form=form)
    response = redirect(f"{PREFIX}/login")
    response.delete_cookie(SESSION_COOKIE, path=PREFIX)
    return response


@router.get("/lang")
async def switch_language(request: Request) -> Response:
    """Remember the chosen language in a cookie and go back where the user was."""
    lang = normalise_language(request.query_params.get("to"))
    response = redirect(safe_next(request.query_params.get("next")))
    response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax", path=PREFIX,
                        secure=state_of(request).services.settings.secure_cookies)
    return response


def _t(key: str, lang: str, **params: str) -> str:
    from gridline.console.rendering import console_text

    return console_text(key, lang, **params)
