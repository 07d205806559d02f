"""Bad broadcasts are refused with a clear message (400, never 500), and only supervisors broadcast."""

from __future__ import annotations

import re

import httpx
import pytest
from sqlmodel import select

from gridline.storage.models import Broadcast, Message
from tests.broadcasts.conftest import BroadcastWorld
from tests.broadcasts.test_broadcasts import WATER


def stored(world: BroadcastWorld) -> tuple[int, int]:
    with world.services.db.session() as session:
        return len(session.exec(select(Broadcast)).all()), len(session.exec(select(Message)).all())


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"body": "   "}, "通知内容不能为空"),
        ({"body": "停" * 501}, "最多 500 字（现在 501 字）"),
        ({"title": "题" * 41}, "标题最多 40 字"),
        ({"grids": ["ZY09-99-9"]}, "没有网格“ZY09-99-9”"),
        ({"grids": ["GX01-01-1"]}, "没有网格“GX01-01-1”"),  # exists, but not this supervisor's
        ({"grids": []}, "请至少选择一个网格"),
        ({"starts_at": "明天早上"}, "不是时间"),
        ({"starts_at": "2026-12-02T18:00", "ends_at": "2026-12-02T08:00"}, "结束时间必须晚于开始时间"),
    ],
)
async def test_bad_input_is_refused_with_a_clear_message(bworld: BroadcastWorld, fields: dict, says: str) -> None:
    console = await bworld.console("sup-zhongyuan")
    before = stored(bworld)
    response = await console.draft(**{**WATER, **fields})
    assert response.status_code == 400
    assert says in response.text
    assert stored(bworld) == before, "nothing stored"


async def test_a_draft_to_grids_nobody_can_be_reached_in_cannot_be_confirmed(bworld: BroadcastWorld) -> None:
    console = await bworld.console("admin")
    path = (await console.draft(**{**WATER, "grids": ["GX02-03-2"]})).headers["location"]
    page = await console.client.get(path)
    assert "将发送给 0 位住户" in page.text
    refused = await console.post(path + "/confirm")
    assert "error=no_recipients" in refused.headers["location"]
    assert "所选网格没有可以联系的住户" in (await console.client.get(refused.headers["location"])).text


@pytest.mark.parametrize("account", ["leader-cheng", "auditor"])
async def test_only_supervisors_and_admins_broadcast(bworld: BroadcastWorld, account: str) -> None:
    supervisor = await bworld.console("sup-zhongyuan")
    path = (await supervisor.draft(**WATER)).headers["location"]
    other = await bworld.console(account)
    if account == "leader-cheng":
        assert (await other.client.get("/console/broadcasts")).status_code == 403
    found = re.search(r'data-csrf="([^"]+)"', (await other.client.get("/console/cases")).text)
    assert found
    token = found.group(1)
    draft = await other.client.post("/console/broadcasts", data={**WATER, "csrf_token": token})
    assert draft.status_code == 403
    confirm = await other.client.post(path + "/confirm", data={"csrf_token": token})
    assert confirm.status_code in (403, 404)
    assert stored(bworld)[1] == 0, "nothing was sent"


async def test_posts_need_the_csrf_token_and_a_login(bworld: BroadcastWorld) -> None:
    console = await bworld.console("sup-zhongyuan")
    no_token = await console.client.post("/console/broadcasts", data=WATER)
    assert no_token.status_code == 403
    path = (await console.draft(**WATER)).headers["location"]
    assert (await console.client.post(path + "/confirm", data={"csrf_token": "forged"})).status_code == 403
    async with httpx.AsyncClient(base_url=bworld.base_url) as anonymous:
        assert (await anonymous.post(path + "/confirm", data={})).status_code in (401, 403)
        page = await anonymous.get(path)
        assert page.status_code == 303 and "/console/login" in page.headers["location"]
        assert (await anonymous.get(path + "/counts", headers={"accept": "application/json"})).status_code == 401
    assert stored(bworld)[1] == 0


async def test_another_supervisors_broadcast_is_not_found(bworld: BroadcastWorld) -> None:
    mine = await bworld.console("sup-zhongyuan")
    path = (await mine.draft(**WATER)).headers["location"]
    theirs = await bworld.console("sup-lianhua")
    assert (await theirs.client.get(path)).status_code == 404
    assert (await theirs.client.get(path + "/counts")).status_code == 404
    assert (await theirs.post(path + "/cancel")).status_code == 404
    admin = await bworld.console("admin")
    assert (await admin.client.get(path)).status_code == 200


async def test_the_pages_and_errors_read_in_english_too(bworld: BroadcastWorld) -> None:
    console = await bworld.console("sup-zhongyuan")
    console.client.cookies.set("gridline_console_lang", "en")
    listing = await console.client.get("/console/broadcasts")
    assert listing.status_code == 200 and "Preview recipients" in listing.text
    refused = await console.draft(**{**WATER, "body": ""})
    assert refused.status_code == 400 and "The notice has no text." in refused.text
    path = (await console.draft(**WATER)).headers["location"]
    page = await console.client.get(path)
    assert "It will go to 5 residents." in page.text and "Confirm and send" in page.text
    assert "【通知】停水通知" in page.text, "the preview is in the resident's language (theirs is zh-CN)"
