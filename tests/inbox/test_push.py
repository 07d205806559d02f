"""Web push: a page delivered on the ``web`` channel is pushed, encrypted and VAPID-signed by
pywebpush over real HTTP, to a local fake push service; a subscription the service drops is forgotten."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest
from sqlmodel import select

from gridline.app import create_app
from gridline.bots.web.push import new_vapid_keys
from gridline.kernel.services import Services
from gridline.storage import staff_inbox as store
from gridline.storage.models import Page
from tests.conftest import MakeServices
from tests.console.conftest import add_account, login
from tests.inbox.conftest import CHENG, City
from tests.inbox.fake_push import Browser, FakePushService, verify_vapid


@pytest.fixture
async def push_service() -> AsyncIterator[FakePushService]:
    service = FakePushService()
    await service.start()
    yield service
    await service.stop()


@pytest.fixture
async def push_city(make_services: MakeServices, drain: Callable[[Services], Awaitable[int]]) -> City:
    private, _ = new_vapid_keys()
    services = await make_services(inbox={"vapid_private_key": private, "vapid_subject": "mailto:ops@gridline.test"})
    add_account(services, "leader-cheng", "leader", staff=CHENG)
    return City(services, drain)


async def subscribe(client: httpx.AsyncClient, browser: Browser) -> str:
    """What the inbox page's script does: read the key and the CSRF token, post the subscription."""
    html = (await client.get("/console/inbox")).text
    key = re.search(r'data-vapid-key="([^"]+)"', html)
    csrf = re.search(r'data-csrf="([^"]+)"', html)
    assert key and csrf
    response = await client.post(
        "/console/inbox/push/subscribe", json=browser.subscription(), headers={"x-csrf-token": csrf.group(1)}
    )
    assert response.status_code == 200, response.text
    return key.group(1)


async def test_a_web_page_is_pushed_encrypted_to_the_subscribed_browser(
    push_city: City, push_service: FakePushService
) -> None:
    app = create_app(push_city.services, run_jobs=False)
    browser = Browser(f"{push_service.url}/push/cheng-phone")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://inbox.test") as cheng:
        assert (await login(cheng, "leader-cheng")).status_code == 303
        public_key = await subscribe(cheng, browser)

        case = await push_city.report("GX01-01-1", "莲花街100号院停水了")

    assert [p.status for p in push_city.pages_of(case.id or 0)] == ["delivered"]
    assert len(push_service.requests) == 1
    push = push_service.requests[0]
    assert push.path == "/push/cheng-phone"
    assert push.headers["content-encoding"] == "aes128gcm"
    assert push.headers["ttl"] == "3600"
    # Encrypted: the reference is not readable on the wire, only after decrypting with the browser's key.
    assert case.ref.encode() not in push.body and "停水".encode() not in push.body
    claims = verify_vapid(push.headers["authorization"], public_key)
    assert claims["aud"] == push_service.url and claims["sub"] == "mailto:ops@gridline.test"
    message = browser.decrypt(push.body)
    assert case.ref in message["title"] and "供水" in message["title"]
    assert message["url"] == f"/console/inbox#case-{case.id}" and message["tag"] == f"case-{case.id}"
    # The lock screen shows no resident's words.
    assert "停水" not in message["title"] + message["body"]
    with push_city.services.db.session() as session:
        [row] = store.subscriptions_of(session, push_city.staff_id(CHENG))
        assert row.last_push_at is not None and row.failures == 0


async def test_a_subscription_the_push_service_dropped_is_forgotten_and_the_page_still_delivered(
    push_city: City, push_service: FakePushService
) -> None:
    app = create_app(push_city.services, run_jobs=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://inbox.test") as cheng:
        assert (await login(cheng, "leader-cheng")).status_code == 303
        await subscribe(cheng, Browser(f"{push_service.url}/push/old-phone"))
    push_service.statuses = [410]
    case = await push_city.report("GX01-01-1", "莲花街100号院停水了")
    assert len(push_service.requests) == 1
    with push_city.services.db.session() as session:
        assert store.subscriptions_of(session, push_city.staff_id(CHENG)) == []
        page = session.exec(select(Page).where(Page.case_id == case.id)).one()
    assert page.status == "delivered"  # the page is in the inbox whatever the push service said


def test_vapid_keys_command_prints_a_pair_that_the_notifier_accepts() -> None:
    from typer.testing import CliRunner

    from gridline.bots.web.push import WebPush
    from gridline.cli import app
    from gridline.settings import InboxSettings

    result = CliRunner().invoke(app, ["inbox", "vapid-keys"])
    assert result.exit_code == 0, result.output
    private = result.output.split("GRIDLINE_INBOX__VAPID_PRIVATE_KEY=", 1)[1].split()[0]
    public = result.output.rsplit(": ", 1)[1].strip()
    assert WebPush(InboxSettings(vapid_private_key=private)).public_key == public
