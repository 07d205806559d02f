"""A complaint about the grid's own people goes above them (投诉工作人员).

「网格长一直不接电话，太不负责了」 was answered with that leader's name and phone line, as if the
resident had asked who their leader is; filed under another category it would have paged that very
leader. It is now a case of its own category, paged to the level-2 contact and the supervisors on
duty — never to the grid's leader or the worker on duty there.
"""

from __future__ import annotations

from gridline.i18n import t
from tests.web.support import Sandbox, replies

LEVEL2 = "L2-ZY01-01"  # 侯霞, level-2 contact of 桐柏社区
GRID_PEOPLE = ("LDR-ZY01-01-2",)  # 邱敏, leader of 孙桂兰's grid


async def test_a_complaint_about_the_leader_is_paged_above_the_grid(sandbox: Sandbox) -> None:
    resident = {"resident_id": await sandbox.resident_id("孙桂兰")}
    chat = await sandbox.say(resident, text="网格长一直不接电话，太不负责了")
    (case,) = chat["cases"]
    assert case["category"] == "staff_conduct"
    assert replies(chat)[-1]["text"] == t("case.created_above", "zh-CN", ref=case["ref"],
                                          category=t("category.staff_conduct", "zh-CN"))  # fmt: skip
    paged = {p["staff_id"] for p in case["pages"]}
    assert await sandbox.staff_id(LEVEL2) in paged
    for code in GRID_PEOPLE:
        assert await sandbox.staff_id(code) not in paged, "never the people complained about"
    staff = (await sandbox.http.get("/sandbox/api/staff")).json()["staff"]
    grid_ids = {s["id"] for s in staff if s.get("grid_code") == "ZY01-01-2"}
    assert not paged & grid_ids, "nobody of the resident's own grid"
    timeline = await sandbox.timeline(case["id"])
    assert timeline["case"]["category"] == "staff_conduct"


async def test_in_english_too(sandbox: Sandbox) -> None:
    resident = {"resident_id": await sandbox.resident_id("David Chen")}
    chat = await sandbox.say(resident, text="I want to complain about my grid leader, he never answers")
    (case,) = chat["cases"]
    assert case["category"] == "staff_conduct"


async def test_who_is_my_leader_is_still_answered(sandbox: Sandbox) -> None:
    resident = {"resident_id": await sandbox.resident_id("孙桂兰")}
    chat = await sandbox.say(resident, text="我的网格长是谁")
    assert chat["cases"] == [] and "邱敏" in replies(chat)[-1]["text"]
