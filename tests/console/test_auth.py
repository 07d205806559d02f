"""Signing in and out: cookies, server-side sessions, CSRF on every form, delays and lockout."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
from sqlmodel import select

from gridline.app import create_app
from gridline.console import security
from gridline.storage.models import AuditLog, CaseEvent, ConsoleUser
from tests.console.conftest import PASSWORD, add_account, csrf_of, login


async def test_pages_redirect_to_the_login_form_until_signed_in(anonymous):
    response = await anonymous.get("/console/cases?grid=GX01")
    assert response.status_code == 303
    assert response.headers["location"] == "/console/login?next=%2Fconsole%2Fcases%3Fgrid%3DGX01"
    assert (await anonymous.get("/console/events", headers={"accept": "text/event-stream"})).status_code == 401


async def test_the_session_cookie_is_httponly_samesite_lax_and_scoped_to_the_console(anonymous):
    response = await login(anonymous, "admin")
    assert response.status_code == 303
    cookie = next(v for k, v in response.headers.multi_items() if k == "set-cookie" and "gridline_console=" in v)
    lowered = cookie.lower()
    assert "httponly" in lowered and "samesite=lax" in lowered and "path=/console" in lowered
    assert "secure" not in lowered
    assert (await anonymous.get("/console/cases")).status_code == 200


async def test_the_cookie_is_secure_when_configured(make_services):
    services = await make_services(console={"cookie_secure": True})
    add_account(services, "admin", "admin")
    app = create_app(services, run_jobs=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://console.test") as client:
        response = await login(client, "admin")
    cookie = next(v for k, v in response.headers.multi_items() if k == "set-cookie" and "gridline_console=" in v)
    assert "secure" in cookie.lower()


async def test_the_cookie_is_secure_whenever_the_public_url_is_https(make_services):
    services = await make_services(server={"public_base_url": "https://gridline.example.org"})
    add_account(services, "admin", "admin")
    app = create_app(services, run_jobs=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://console.test") as client:
        response = await login(client, "admin")
    cookie = next(v for k, v in response.headers.multi_items() if k == "set-cookie" and "gridline_console=" in v)
    assert "secure" in cookie.lower()


async def test_the_database_keeps_only_a_digest_of_the_session_token(anonymous, console_services):
    await login(anonymous, "admin")
    from gridline.storage.models.console import ConsoleSession

    cookie = anonymous.cookies.get("gridline_console", path="/console")
    token = cookie.rsplit(".", 1)[0]
    with console_services.db.session() as session:
        stored = session.exec(select(ConsoleSession)).one()
    assert stored.token_hash == security.token_digest(token)
    assert token not in stored.token_hash


async def test_a_tampered_cookie_is_not_a_session(anonymous):
    await login(anonymous, "admin")
    cookie = anonymous.cookies.get("gridline_console", path="/console")
    anonymous.cookies.clear()
    anonymous.cookies.set("gridline_console", cookie[:-2] + "xx", path="/console")
    assert (await anonymous.get("/console/cases")).status_code == 303


async def test_logging_out_ends_the_session_on_the_server(anonymous):
    await login(anonymous, "admin")
    cookie = anonymous.cookies.get("gridline_console", path="/console")
    token = csrf_of((await anonymous.get("/console/cases")).text)
    response = await anonymous.post("/console/logout", data={"csrf_token": token})
    assert response.status_code == 303
    # Someone who kept a copy of the cookie cannot use it any more.
    anonymous.cookies.set("gridline_console", cookie, path="/console")
    assert (await anonymous.get("/console/cases")).status_code == 303


async def test_a_session_expires_after_the_configured_hours(anonymous, console_services):
    await login(anonymous, "admin")
    console_services.clock.advance(hours=console_services.settings.console.session_hours - 0.1)
    assert (await anonymous.get("/console/cases")).status_code == 200
    console_services.clock.advance(minutes=7)
    assert (await anonymous.get("/console/cases")).status_code == 303


async def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(client_for, factory, console_services):
    case = factory.case()
    admin = await client_for("admin")
    for data in ({"text": "没有令牌"}, {"text": "错的令牌", "csrf_token": "forged"}):
        response = await admin.post(f"/console/cases/{case.id}/note", data=data)
        assert response.status_code == 403
    with console_services.db.session() as session:
        assert session.exec(select(CaseEvent).where(CaseEvent.kind == "note")).all() == []
    logout = await admin.post("/console/logout", data={})
    assert logout.status_code == 403
    assert (await admin.get("/console/cases")).status_code == 200  # still signed in


async def test_another_sessions_csrf_token_does_not_work(client_for, factory):
    case = factory.case()
    admin = await client_for("admin")
    other = await client_for("sup-lianhua")
    foreign = csrf_of((await other.get("/console/cases")).text)
    response = await admin.post(f"/console/cases/{case.id}/note", data={"text": "x", "csrf_token": foreign})
    assert response.status_code == 403


async def test_the_login_form_needs_its_own_csrf_token(anonymous):
    response = await anonymous.post("/console/login", data={"name": "admin", "password": PASSWORD})
    assert response.status_code == 403
    assert "gridline_console" not in anonymous.cookies


async def test_login_never_redirects_outside_the_console(anonymous):
    form = await anonymous.get("/console/login", params={"next": "https://evil.example/steal"})
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)  # type: ignore[union-attr]
    response = await anonymous.post("/console/login", data={
        "name": "admin", "password": PASSWORD, "csrf_token": token, "next": "//evil.example/x"})
    assert response.headers["location"] == "/console/cases"


async def test_repeated_failures_bring_a_growing_delay_then_a_lockout(anonymous, console_services):
    clock = console_services.clock
    statuses = [(await login(anonymous, "sup-lianhua", "wrong-password")).status_code
                for _ in range(security.FREE_FAILURES)]
    assert statuses == [401] * security.FREE_FAILURES

    waits = []
    for _ in security.DELAY_SECONDS:
        refused = await login(anonymous, "sup-lianhua", "wrong-password")
        assert refused.status_code == 429
        with console_services.db.session() as session:
            user = session.exec(select(ConsoleUser).where(ConsoleUser.name == "sup-lianhua")).one()
        waits.append((user.locked_until - clock.now()).total_seconds())
        # A 429 says when to try again (docs/operations.md): the account's own wait, in seconds.
        assert 1 <= int(refused.headers["retry-after"]) <= waits[-1] + 1, (refused.headers, waits)
        # Even the right password is not checked while the account must wait.
        assert (await login(anonymous, "sup-lianhua")).status_code == 429
        clock.advance(seconds=waits[-1] + 1)
    assert waits == sorted(waits) and waits[0] < waits[-1]

    locked = await login(anonymous, "sup-lianhua", "wrong-password")
    assert locked.status_code == 429
    assert "锁定" in locked.text
    assert int(locked.headers["retry-after"]) >= security.LOCKOUT.total_seconds() - 5
    clock.advance(security.LOCKOUT - timedelta(minutes=1))
    assert (await login(anonymous, "sup-lianhua")).status_code == 429
    clock.advance(minutes=2)
    assert (await login(anonymous, "sup-lianhua")).status_code == 303

    with console_services.db.session() as session:
        actions = [a.action for a in session.exec(select(AuditLog).where(AuditLog.actor == "console:sup-lianhua"))]
    assert actions.count("console.login_failed") == security.LOCKOUT_AFTER
    assert "console.login_refused" in actions and actions[-1] == "console.login"


async def test_an_admin_can_unlock_a_locked_account(client_for, anonymous, console_services):
    for _ in range(security.LOCKOUT_AFTER):
        await login(anonymous, "auditor", "wrong-password")
        console_services.clock.advance(minutes=3)
    assert (await login(anonymous, "auditor")).status_code == 429
    admin = await client_for("admin")
    page = await admin.get("/console/users")
    assert "解锁" in page.text
    with console_services.db.session() as session:
        auditor = session.exec(select(ConsoleUser).where(ConsoleUser.name == "auditor")).one()
    response = await admin.post(f"/console/users/{auditor.id}/unlock", data={"csrf_token": csrf_of(page.text)})
    assert response.status_code == 303
    assert (await login(anonymous, "auditor")).status_code == 303


async def test_an_unknown_account_gets_the_same_answer_as_a_wrong_password(anonymous):
    unknown = await login(anonymous, "nobody", "whatever-password")
    wrong = await login(anonymous, "admin", "whatever-password")
    assert unknown.status_code == wrong.status_code == 401
    assert "账号或密码不正确" in unknown.text and "账号或密码不正确" in wrong.text


async def test_the_language_switch_keeps_the_page_and_speaks_english(client_for):
    admin = await client_for("admin")
    switch = await admin.get("/console/lang", params={"to": "en", "next": "/console/cases?status=paged"})
    assert switch.headers["location"] == "/console/cases?status=paged"
    page = await admin.get("/console/cases")
    assert "Cases" in page.text and 'lang="en"' in page.text
    back = await admin.get("/console/lang", params={"to": "zh-CN", "next": "/console/cases"})
    assert back.status_code == 303
    assert "工单" in (await admin.get("/console/cases")).text
