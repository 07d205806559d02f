"""Signing in to the inbox: the console's password form, or a one-time link sent on the staff
member's own channel (their first reachable Telegram or SMS contact).

A link carries a random token; ``inbox_login_links`` stores only its SHA-256 (the outbox message that
carried it is blanked when it is used), it expires after ``inbox.link_minutes`` and is redeemed once
by a conditional UPDATE. Opening the link shows a button and only the POST
uses it, so a chat app fetching the link for a preview does not spend it. The answer to "send me a
link" is the same whether or not the person exists, so the form does not tell who is on the staff.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import phonenumbers
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from gridline.console import security
from gridline.console.http import (
    LOGIN_CSRF_COOKIE,
    LOGIN_CSRF_PURPOSE,
    PREFIX,
    client_ip,
    request_language,
    state_of,
)
from gridline.console.rendering import console_text
from gridline.console.sessions import SESSION_COOKIE, lookup_session, open_session
from gridline.edge.ratelimit import rate_limits
from gridline.i18n.phrases import Phrase
from gridline.kernel.outbox import queue_message
from gridline.kernel.services import Services
from gridline.kernel.work import Work, in_transaction
from gridline.storage import console as console_accounts
from gridline.storage import directory, people
from gridline.storage import staff_inbox as store
from gridline.storage.audit import record
from gridline.storage.models import ChannelIdentity, ConsoleUser, ContactMethod, Staff

router = APIRouter()

INBOX = f"{PREFIX}/inbox"
LINK_CHANNELS = ("telegram", "sms")
# A password no argon2 hash matches: accounts made for link sign-in cannot be used with a password.
NO_PASSWORD = "!link-only"


def _login_csrf(request: Request) -> tuple[str, bool]:
    secret = state_of(request).services.settings.server.secret_key
    token = security.unsign(secret, LOGIN_CSRF_PURPOSE, request.cookies.get(LOGIN_CSRF_COOKIE))
    return (token, False) if token else (security.new_token(), True)


def _page(request: Request, template: str, status_code: int = 200, **context: object) -> HTMLResponse:
    """A pre-session page carrying the login CSRF token (cookie + signed form field), like the console's."""
    state = state_of(request)
    settings = state.services.settings
    token, fresh = _login_csrf(request)
    html = state.renderer.render(
        template, request_language(request), login_csrf=security.sign(settings.server.secret_key,
                                                                        LOGIN_CSRF_PURPOSE + ":form", token),
        next=INBOX, path=request.url.path, full_path=request.url.path, **context)
    response = HTMLResponse(html, status_code=status_code)
    if fresh:
        response.set_cookie(LOGIN_CSRF_COOKIE, security.sign(settings.server.secret_key, LOGIN_CSRF_PURPOSE, token),
                            httponly=True, samesite="lax", secure=settings.secure_cookies, path=PREFIX)
    return response


def _csrf_ok(request: Request, form_token: object) -> bool:
    secret = state_of(request).services.settings.server.secret_key
    cookie_token = security.unsign(secret, LOGIN_CSRF_PURPOSE, request.cookies.get(LOGIN_CSRF_COOKIE))
    given = security.unsign(secret, LOGIN_CSRF_PURPOSE + ":form", form_token if isinstance(form_token, str) else "")
    return security.same_token(cookie_token, given)


@router.get("/inbox/login", response_class=HTMLResponse)
async def login_page(request: Request) -> Response:
    services = state_of(request).services

    def signed_in() -> bool:
        with services.db.session() as session:
            return lookup_session(session, request.cookies.get(SESSION_COOKIE), now=services.clock.now(),
                                  secret=services.settings.server.secret_key) is not None

    if await services.db.run(signed_in):
        return RedirectResponse(INBOX, status_code=303)
    lang = request_language(request)
    expired = request.query_params.get("expired") == "1"
    return _page(request, "inbox_login.html", notice=console_text("login.expired", lang) if expired else None)


def find_staff(session: Session, who: str, region: str = "CN") -> Staff | None:
    """The active staff member with this code, or this phone number (any common spelling)."""
    who = who.strip()
    if not who:
        return None
    staff = people.active_staff_by_code(session, who)
    if staff is not None:
        return staff
    try:
        number = phonenumbers.parse(who, region)
    except phonenumbers.NumberParseException:
        return None
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return people.active_staff_by_phone(session, e164)


def link_channel(session: Session, staff: Staff) -> tuple[ContactMethod, str] | None:
    """The staff member's first reachable channel that can carry a link, and its address."""
    methods = directory.reachable_contact_methods(session, staff.id or 0)
    for method in methods:
        if method.channel in LINK_CHANNELS:
            target = method.target or (staff.phone if method.channel == "sms" else "") or ""
            if target:
                return method, target
    return None


def _staff_identity(work: Work, staff: Staff, method: ContactMethod, target: str) -> ChannelIdentity:
    """The outbox addresses messages to channel identities; find or make the staff member's."""
    session = work.session
    found = people.identity_reaching(session, method.channel, method.bot_name, target)
    if found is not None:
        return found
    identity = ChannelIdentity(channel=method.channel, external_id=target, bot_name=method.bot_name,
                               staff_id=staff.id, chat_id=target if method.channel == "telegram" else None,
                               created_at=work.now)
    session.add(identity)
    session.flush()
    return identity


def issue_link(work: Work, services: Services, who: str, ip: str | None) -> str | None:
    """Queue a one-time sign-in link to the staff member named by ``who`` on their own channel; the
    token, or None when nobody matched, they had enough links this hour, or no channel can carry one.
    The caller answers the same either way."""
    settings = services.settings
    staff = find_staff(work.session, who, settings.twilio.default_region)
    if staff is None or staff.id is None:
        return None
    if store.links_issued_since(work.session, staff.id, work.now - timedelta(hours=1)) >= settings.inbox.links_per_hour:
        return None
    channel = link_channel(work.session, staff)
    if channel is None:
        return None
    method, target = channel
    token = security.new_token()
    store.add_login_link(work.session, staff_id=staff.id, token_hash=security.token_digest(token),
                         channel=method.channel, now=work.now, minutes=settings.inbox.link_minutes)
    url = f"{settings.server.public_base_url.rstrip('/')}{INBOX}/link/{token}"
    said = Phrase("console.inbox.login.link_message", {"minutes": settings.inbox.link_minutes, "url": url})
    queue_message(work, channel=method.channel, identity=_staff_identity(work, staff, method, target),
                  phrase=said, lang=staff.lang, staff_id=staff.id)
    record(work.session, at=work.now, actor=f"staff:{staff.code}", action="inbox.link_sent",
           target_kind="staff", target_id=staff.id, detail={"channel": method.channel}, ip=ip)
    return token


async def too_many(request: Request, template: str) -> Response | None:
    """A sign-in attempt by link counts against the same per-IP limit as a password (``login_per_ip``)."""
    services = state_of(request).services
    verdict = await rate_limits(services).hit("login_per_ip", client_ip(request) or "unknown")
    if verdict.allowed:
        return None
    response = _page(request, template, 429, error=console_text("login.too_many", request_language(request)))
    response.headers["Retry-After"] = str(max(1, verdict.retry_after))
    return response


@router.post("/inbox/link")
async def request_link(request: Request) -> Response:
    services = state_of(request).services
    refused = await too_many(request, "inbox_login.html")
    if refused is not None:
        return refused
    form = await request.form()
    lang = request_language(request)
    if not _csrf_ok(request, form.get("csrf_token")):
        return _page(request, "inbox_login.html", 403, error=console_text("inbox.login.csrf", lang))
    who = str(form.get("who", ""))[:64]
    await in_transaction(services, issue_link, services, who, client_ip(request))
    notice = console_text("inbox.login.link_sent", lang, minutes=services.settings.inbox.link_minutes)
    return _page(request, "inbox_login.html", notice=notice)


def _valid_token(token: str) -> bool:
    return 20 <= len(token) <= 100 and all(c.isalnum() or c in "-_" for c in token)


@router.get("/inbox/link/{token}", response_class=HTMLResponse)
async def link_page(request: Request, token: str) -> Response:
    services = state_of(request).services
    lang = request_language(request)

    def holder() -> str | None:
        with services.db.session() as session:
            staff_id = store.live_link_staff_id(session, security.token_digest(token), services.clock.now())
            staff = session.get(Staff, staff_id) if staff_id is not None else None
            return staff.name if staff else None

    name = await services.db.run(holder) if _valid_token(token) else None
    if name is None:
        return _page(request, "inbox_link.html", 410, error=console_text("inbox.login.link_invalid", lang))
    return _page(request, "inbox_link.html", name=name, token=token)


def link_account(session: Session, staff: Staff, now: datetime) -> ConsoleUser:
    """The console account a link signs into: the staff member's own leader account if there is one,
    else one made for link sign-in (role ``leader``: sees only their own cases, has no password).
    A link never signs into an admin, supervisor or auditor account: those need their password."""
    own = console_accounts.leader_account_of(session, staff.code)
    if own is not None:
        return own
    name = f"staff-{staff.code}"[:100]
    if console_accounts.name_taken(session, name):
        name = f"staff-{staff.code}-{staff.id}"[:100]
    user = ConsoleUser(name=name, password_hash=NO_PASSWORD, role="leader", staff_code=staff.code, lang=staff.lang,
                       created_at=now)
    session.add(user)
    session.flush()
    return user


def redeem(work: Work, services: Services, token: str, ip: str | None, user_agent: str | None) -> str | None:
    """Spend the link and open a session; the session cookie, or None if the link is used or expired."""
    staff_id = store.redeem_login_link(work.session, security.token_digest(token), work.now)
    staff = work.session.get(Staff, staff_id) if staff_id is not None else None
    if staff is None or not staff.active:
        return None
    store.blank_link_token(work.session, staff.id or 0, token)
    user = link_account(work.session, staff, work.now)
    cookie = open_session(work.session, user, now=work.now, secret=services.settings.server.secret_key,
                          session_hours=services.settings.console.session_hours, ip=ip, user_agent=user_agent)
    record(work.session, at=work.now, actor=f"console:{user.name}", action="inbox.link_login",
           target_kind="console_user", target_id=user.id or "", detail={"staff": staff.code}, ip=ip)
    return cookie


@router.post("/inbox/link/{token}")
async def use_link(request: Request, token: str) -> Response:
    services = state_of(request).services
    refused = await too_many(request, "inbox_link.html")
    if refused is not None:
        return refused
    form = await request.form()
    lang = request_language(request)
    if not _csrf_ok(request, form.get("csrf_token")):
        return _page(request, "inbox_link.html", 403, error=console_text("inbox.login.csrf", lang))
    cookie = None
    if _valid_token(token):
        cookie = await in_transaction(services, redeem, services, token, client_ip(request),
                                      request.headers.get("user-agent"))
    if cookie is None:
        return _page(request, "inbox_link.html", 410, error=console_text("inbox.login.link_invalid", lang))
    response = RedirectResponse(INBOX, status_code=303)
    response.set_cookie(SESSION_COOKIE, cookie, max_age=services.settings.console.session_hours * 3600,
                        httponly=True, samesite="lax", secure=services.settings.secure_cookies, path=PREFIX)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path=PREFIX)
    return response
