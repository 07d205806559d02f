"""The inbox on a phone, in Debian's Chromium: a leader signs in, sees the page the core sent to the
web inbox, and acknowledges it with one tap. Screenshots go to test-artifacts/console/ (and
docs/screenshots/ with GRIDLINE_UPDATE_SCREENSHOTS=1)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from fastapi import FastAPI
from sqlmodel import select

from gridline.storage.models import Acknowledgement
from tests.console.browser import LiveServer, chromium_serving, save_screenshot
from tests.console.conftest import PASSWORD
from tests.inbox.conftest import CHENG, City

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


@pytest.fixture
async def browser(app: FastAPI) -> AsyncIterator[tuple[Any, LiveServer]]:
    async with chromium_serving(app) as served:
        yield served


async def test_a_leader_acknowledges_a_page_from_the_phone_inbox(browser: tuple[Any, LiveServer], city: City) -> None:
    chromium, server = browser
    water = await city.report("GX01-01-1", "莲花街100号院从昨天就没水了，俺家老人等着做饭")
    light = await city.report("GX01-01-1", "楼道灯坏了好几天了", category="road_facility")
    context = await chromium.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-CN")
    page = await context.new_page()

    await page.goto(f"{server.url}/console/inbox")
    await page.wait_for_url(f"{server.url}/console/inbox/login")
    save_screenshot(await page.screenshot(), "inbox-login-phone")
    await page.fill("input[name=name]", "leader-cheng")
    await page.fill("input[name=password]", PASSWORD)
    await page.click("form[action='/console/login'] button[type=submit]")
    await page.wait_for_url(f"{server.url}/console/inbox")

    card = page.locator(f"#case-{water.id}")
    assert water.ref in await card.inner_text() and await page.locator(f"#case-{light.id}").count() == 1
    # Mobile-first: nothing wider than the phone, and the buttons are thumb-sized.
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    box = await card.locator("button[data-action=acknowledge]").bounding_box()
    assert box is not None and box["height"] >= 44
    # The service worker is installed for the inbox's scope (what makes it an installable app).
    scope = await page.evaluate("navigator.serviceWorker.ready.then(r => r.scope)")
    assert scope == f"{server.url}/console/inbox"
    save_screenshot(await page.screenshot(full_page=True), "inbox-phone")

    await card.locator("button[data-action=acknowledge]").tap()
    await page.wait_for_url(lambda url: "done=acknowledged" in url)
    notice = await page.locator(".alert.ok").inner_text()
    assert water.ref in notice and "已接单" in notice
    assert city.case(water.id or 0).status == "acknowledged"
    with city.services.db.session() as session:
        ack = session.exec(select(Acknowledgement).where(Acknowledgement.case_id == water.id)).one()
    assert ack.channel == "web" and ack.staff_id == city.staff_id(CHENG)
    # Still in the inbox, now among the cases held, without 接单.
    held = page.locator(f"#case-{water.id}")
    assert await held.locator("button[data-action=acknowledge]").count() == 0
    assert await held.locator("button[data-action=resolve]").count() == 1
    save_screenshot(await page.screenshot(full_page=True), "inbox-phone-acknowledged")
    await context.close()
