"""The sandbox page, its map and its lists: what a newcomer's browser loads first."""

from __future__ import annotations

import re

from tests.web.support import API, Sandbox


async def test_root_leads_to_the_sandbox(sandbox: Sandbox) -> None:
    response = await sandbox.http.get("/")
    assert response.status_code in (302, 307)
    assert response.headers["location"] == "/sandbox"


async def test_the_page_is_chinese_first_with_an_english_switch(sandbox: Sandbox) -> None:
    zh = await sandbox.http.get("/sandbox")
    en = await sandbox.http.get("/sandbox", params={"lang": "en"})
    assert zh.status_code == en.status_code == 200
    assert '<html lang="zh-CN">' in zh.text and "网格长收件箱" in zh.text
    assert '<html lang="en">' in en.text and "Leader&#39;s inbox" in en.text
    assert "script-src 'self'" in zh.headers["content-security-policy"]


async def test_the_page_loads_nothing_from_elsewhere(sandbox: Sandbox) -> None:
    page = (await sandbox.http.get("/sandbox")).text
    sources = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert sources and all(s.startswith("/") for s in sources)
    for path in ("/sandbox/static/sandbox.js", "/sandbox/static/sandbox.css"):
        assert (await sandbox.http.get(path)).status_code == 200


async def test_the_map_draws_every_grid_and_inverts_its_projection(sandbox: Sandbox) -> None:
    data = (await sandbox.http.get(f"{API}/map")).json()
    levels = [g["level"] for g in data["grids"]]
    assert levels.count(3) >= 12 and levels.count(1) >= 2
    assert all(g["path"].startswith("M") and g["path"].endswith("Z") for g in data["grids"])
    p = data["projection"]
    # The top-left corner of the drawing is (lon0, lat_top), as the page's script assumes.
    first = data["grids"][0]["path"][1:].split("L")[0].split(",")
    x, y = float(first[0]), float(first[1])
    lon = p["lon0"] + (x - p["margin"]) / (p["kx"] * p["scale"])
    lat = p["lat_top"] - (y - p["margin"]) / p["scale"]
    assert 113.4 < lon < 113.8 and 34.7 < lat < 34.9


async def test_the_lists_show_demo_residents_and_staff_reachable_on_the_web(sandbox: Sandbox) -> None:
    residents = (await sandbox.http.get(f"{API}/residents")).json()["residents"]
    staff = (await sandbox.http.get(f"{API}/staff", params={"lang": "en"})).json()["staff"]
    assert "李秀英" in [r["name"] for r in residents]
    assert all(r["grid_code"] for r in residents)
    leader = next(s for s in staff if s["code"] == "LDR-ZY01-01-1")
    assert (leader["name"], leader["role_label"], leader["open_pages"]) == ("龙小燕", "grid leader", 0)
