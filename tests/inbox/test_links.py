"""One-time sign-in links: sent on the staff member's own channel, stored hashed, short-lived, used once."""

from __future__ import annotations

import hashlib
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI
from sqlmodel import col, select

from gridline.storage.models import AuditLog, ConsoleSession, ConsoleUser, InboxLoginLink, Message
from tests.conftest import MakeServices
from tests.console.conftest import login
from tests.inbox.conftest import CHENG, City, csrf_in, refs_in

LINK = re.compile(r"http://127\.0\.0\.1:8000(/console/inbox/link/([A-Za-z0-9_-]+))")


def client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://inbox.test")


async def ask_for_link(http: httpx.AsyncClient, who: str) -> httpx.Response:
    token = csrf_in((await http.get("/console/inbox/login")).text)
    response = await http.post("/console/inbox/link", data={"csrf_token": token, "who": who})
    assert response.status_code == 200, response.text
    return response


def sent_links(city: City, code: str) -> list[tuple[Message, str, str]]:
    """(message, path, token) of every sign-in link sent to the staff member, oldest first."""
    with city.services.db.session() as session:
        messages = session.exec(
            select(Message)
            .where(Message.staff_id == city.staff_id(code), Message.direction == "out")
            .order_by(col(Message.id))
        ).all()
    out = []
    for message in messages:
        found = LINK.search(message.text or "")
        if found:
            out.append((message, found.group(1), found.group(2)))
    return out


@asynccontextmanager
async def use_link(app: FastAPI, path: str) -> AsyncIterator[tuple[httpx.Response, httpx.AsyncClient]]:
    """Open the link in a fresh browser and press its button; yields the answer and that browser."""
    async with client(app) as http:
        page = await http.get(path)
        if page.status_code != 200:
            yield page, http
        else:
            yield await http.post(path, data={"csrf_token": csrf_in(page.text)}), http


async def test_a_link_sent_on_telegram_signs_in_once(city: City, app: FastAPI) -> None:
    case = await city.report("GX01-01-1", "莲花街100号院停水了")
    async with client(app) as anonymous:
        answer = await ask_for_link(anonymous, CHENG)
    assert "只能使用一次" in answer.text
    [(message, path, token)] = sent_links(city, CHENG)
    # 程振华's channels are web, telegram, sms, voice: the first that can carry a link is Telegram.
    assert message.channel == "telegram" and "15 分钟" in (message.text or "")
    with city.services.db.session() as session:
        link = session.exec(select(InboxLoginLink)).one()
    assert link.token_hash == hashlib.sha256(token.encode()).hexdigest() and token not in link.token_hash

    # Opening the link (or a chat app's preview fetching it) does not use it up.
    async with client(app) as preview:
        assert (await preview.get(path)).status_code == 200
    async with use_link(app, path) as (response, http):
        assert response.status_code == 303 and response.headers["location"] == "/console/inbox"
        assert case.ref in refs_in((await http.get("/console/inbox")).text)
    with city.services.db.session() as session:
        newest = session.exec(select(ConsoleSession).order_by(col(ConsoleSession.id).desc())).first()
        assert newest is not None
        # 程振华 has a leader account of his own: the link signs in to it, no second account is made.
        assert session.get(ConsoleUser, newest.user_id).name == "leader-cheng"  # type: ignore[union-attr]
        assert (
            session.exec(select(AuditLog).where(AuditLog.action == "inbox.link_login")).one().actor
            == "console:leader-cheng"
        )
    with city.services.db.session() as session:
        sent = session.get(Message, message.id)
        # Used: the token is gone from the outbox's copy of the message too.
        assert sent is not None and token not in (sent.text or "") and "/console/inbox/link/…" in (sent.text or "")
    async with use_link(app, path) as (again, _):
        assert again.status_code == 410 and "已失效" in again.text
    # A second POST with a fresh form also fails: the UPDATE only spends an unused link.
    async with client(app) as late:
        form = await late.get("/console/inbox/login")
        second = await late.post(path, data={"csrf_token": csrf_in(form.text)})
        assert second.status_code == 410


async def test_a_link_expires(city: City, app: FastAPI) -> None:
    async with client(app) as anonymous:
        await ask_for_link(anonymous, CHENG)
    [(_, path, _)] = sent_links(city, CHENG)
    async with client(app) as http:
        form = await http.get(path)
        assert form.status_code == 200
        city.services.clock.advance(minutes=16)  # type: ignore[attr-defined]
        used = await http.post(path, data={"csrf_token": csrf_in(form.text)})
        assert used.status_code == 410
        assert (await http.get("/console/inbox")).status_code == 303  # not signed in
        assert (await http.get(path)).status_code == 410


async def test_nobody_learns_who_is_on_the_staff_and_links_are_rationed(city: City, app: FastAPI) -> None:
    async with client(app) as anonymous:
        unknown = await ask_for_link(anonymous, "NOBODY-1")
        known = await ask_for_link(anonymous, CHENG)
        assert csrf_free(unknown.text) == csrf_free(known.text)
        for _ in range(6):
            await ask_for_link(anonymous, CHENG)
    assert len(sent_links(city, CHENG)) == city.services.settings.inbox.links_per_hour
    async with client(app) as anonymous:
        assert (await anonymous.get("/console/inbox/link/" + "x" * 43)).status_code == 410
        assert (await anonymous.get("/console/inbox/link/not%20a%20token")).status_code == 410


def csrf_free(html: str) -> str:
    return re.sub(r'value="[^"]*"', "", html)


async def test_staff_without_an_account_get_a_link_only_account_by_sms(city: City, app: FastAPI) -> None:
    member = "MBR-GX01-01-1"  # 张磊: sms, voice, web — reachable by SMS at +86 170 0000 0002
    async with client(app) as anonymous:
        await ask_for_link(anonymous, "+86 170 0000 0002")
    [(message, path, _)] = sent_links(city, member)
    assert message.channel == "sms"
    async with use_link(app, path) as (response, http):
        assert response.status_code == 303
        assert (await http.get("/console/inbox")).status_code == 200
    with city.services.db.session() as session:
        account = session.exec(select(ConsoleUser).where(ConsoleUser.staff_code == member)).one()
    assert account.role == "leader" and account.name == f"staff-{member}"
    # That account has no password: nobody signs in to it with the password form.
    async with client(app) as guesser:
        assert (await login(guesser, account.name, account.password_hash)).status_code == 401


async def test_asking_for_links_counts_against_the_sign_in_limit_per_ip(make_services: MakeServices) -> None:
    from gridline.app import create_app
    from tests.console.conftest import add_account

    services = await make_services(limits={"login_per_ip": "3 per minute"})
    add_account(services, "leader-cheng", "leader", staff=CHENG)
    app = create_app(services, run_jobs=False)
    async with client(app) as http:
        token = csrf_in((await http.get("/console/inbox/login")).text)
        responses = [await http.post("/console/inbox/link", data={"csrf_token": token, "who": f"X-{n}"})
                     for n in range(4)]
        assert [r.status_code for r in responses] == [200, 200, 200, 429]
        assert int(responses[-1].headers["retry-after"]) >= 1  # docs/operations.md: 429 with Retry-After
        assert (await http.post("/console/inbox/link/" + "a" * 43, data={"csrf_token": token})).status_code == 429
