"""Exploratory QA pass of the console in a real headless Chromium (2026-12-02): layout a person sees."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlmodel import select

from gridline.kernel.services import Services
from gridline.storage.models import Household
from tests.console.browser import LiveServer, chromium_serving, save_screenshot, sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
async def browser(app: Any) -> AsyncIterator[tuple[Any, LiveServer]]:
    async with chromium_serving(app) as served:
        yield served


async def test_every_checkbox_sits_beside_its_words(browser, console_services: Services) -> None:
    """On the household, sweep and broadcast forms the tick boxes floated in the middle of the form,
    a line above the words they belong to (``label.check`` was laid out only inside the filters)."""
    with console_services.db.session() as session:
        household = session.exec(select(Household).order_by(Household.id)).first()
        assert household is not None
    chromium, server = browser
    context = await chromium.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    await sign_in(page, server, "admin")
    for path in (f"/console/households/{household.id}", "/console/sweeps", "/console/broadcasts"):
        await page.goto(f"{server.url}{path}")
        labels = page.locator("label.check")
        assert await labels.count() > 0, path
        for i in range(await labels.count()):
            label = labels.nth(i)
            box = await label.bounding_box()
            tick = await label.locator("input[type=checkbox]").bounding_box()
            assert box and tick
            # One line: the box at the label's left edge, the words right of it on the same line.
            assert tick["x"] - box["x"] < 8, (path, i, box, tick)
            assert box["height"] < 2.2 * tick["height"] + 8, (path, i, box, tick)
        save_screenshot(await page.screenshot(full_page=True), "checks-" + path.strip("/").replace("/", "-"))
    await context.close()


@pytest.mark.parametrize("width", [1280, 390])
async def test_a_very_long_unbroken_resident_text_stays_inside_the_page(browser, factory, width) -> None:
    """A resident who pastes a long link or holds a key down must not push the page sideways."""
    text = "楼道灯坏了" + "A" * 1500 + " https://example.com/" + "x" * 400
    case = factory.case(grid="GX01-01-1", text=text, staff="LDR-GX01-01-1")
    chromium, server = browser
    context = await chromium.new_context(viewport={"width": width, "height": 900})
    page = await context.new_page()
    await sign_in(page, server, "admin")
    for path in ("/console/cases", f"/console/cases/{case.id}", "/console/conversations"):
        await page.goto(f"{server.url}{path}")
        scroll_width = await page.evaluate("document.documentElement.scrollWidth")
        assert scroll_width <= width + 1, (path, width, scroll_width)
        name = f"long-text-{width}-" + path.strip("/").replace("/", "-")
        save_screenshot(await page.screenshot(full_page=True), name)
    await context.close()


async def test_keyboard_focus_is_visible_on_the_dark_menu_bar(browser, factory) -> None:
    """Tabbing through the menu showed no focus at all: the browser's dark focus ring on the dark blue
    bar. A keyboard user could not tell where they were."""
    chromium, server = browser
    context = await chromium.new_context(viewport={"width": 1280, "height": 600})
    page = await context.new_page()
    await sign_in(page, server, "admin")
    seen = []
    for _ in range(14):
        await page.keyboard.press("Tab")
        seen.append(await page.evaluate(
            "() => { const e = document.activeElement, s = getComputedStyle(e);"
            " return [e.closest('.topbar') !== null, e.textContent.trim(), s.outlineStyle, s.outlineColor,"
            " parseFloat(s.outlineWidth)]; }"))
    in_bar = [s for s in seen if s[0]]
    assert len(in_bar) >= 10, seen  # brand, every menu entry, the language switch, log out
    for _, name, style, colour, width in in_bar:
        assert style == "solid" and width >= 2 and colour == "rgb(255, 213, 79)", (name, style, colour, width)
    save_screenshot(await page.screenshot(), "focus-menu")
    await context.close()


async def test_a_household_on_a_phone_uses_the_whole_width(browser, console_services: Services) -> None:
    """On a phone the household's tables (members, family, visits, 平安守护) turned into cards with an
    empty label column: every name and number pushed 6.5 rem to the right of nothing."""
    with console_services.db.session() as session:
        household = session.exec(select(Household).where(Household.grid_code == "ZY01-01-1",
                                                         Household.room == "101")).first()
        assert household is not None
    chromium, server = browser
    context = await chromium.new_context(viewport={"width": 390, "height": 844})
    page = await context.new_page()
    await sign_in(page, server, "admin")
    await page.goto(f"{server.url}/console/households/{household.id}")
    # Where the words start, not the cell: the cell spans the card, its label column comes first.
    offsets = await page.evaluate("""() => [...document.querySelectorAll('section.card table.responsive td')]
        .filter(td => td.textContent.trim()).map(td => {
            const text = [...td.childNodes].find(n => n.nodeType === 3 && n.textContent.trim())
                || td.querySelector('a, button, span, select, input');
            if (!text) return null;
            let left;
            if (text.nodeType === 3) { const r = document.createRange(); r.selectNodeContents(text);
                left = r.getBoundingClientRect().left; } else { left = text.getBoundingClientRect().left; }
            return [td.textContent.trim().slice(0, 12), left - td.getBoundingClientRect().left];
        }).filter(Boolean)""")
    assert offsets and all(offset < 24 for _, offset in offsets), offsets
    save_screenshot(await page.screenshot(full_page=True), "household-phone")
    await context.close()
