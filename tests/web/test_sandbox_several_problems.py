"""A message that names two problems files two cases, each with its own words, each paged to
whoever handles it, and the resident is answered once with both references (core.conversation.several)."""

from __future__ import annotations

import pytest

from tests.web.support import Sandbox, replies

LEADER = "LDR-ZY01-01-1"  # 龙小燕, leader of 李秀英's grid, on duty Thursday 10:00


async def test_two_problems_in_one_message_are_two_cases_answered_once(sandbox: Sandbox) -> None:
    resident = {"resident_id": await sandbox.resident_id("李秀英")}
    leader_id = await sandbox.staff_id(LEADER)

    chat = await sandbox.say(resident, text="停水了，另外电梯也坏了")

    cases = sorted(chat["cases"], key=lambda c: c["id"])
    assert [(c["category"], c["summary"]) for c in cases] == [("water_supply", "停水了"), ("elevator", "电梯也坏了")]
    (answer,) = replies(chat)
    assert all(c["ref"] in answer["text"] for c in cases), answer["text"]
    assert answer["text"].startswith("您反映的2个问题已分别受理")
    pages = await sandbox.inbox(leader_id)
    assert sorted(p["case"]["ref"] for p in pages) == sorted(c["ref"] for c in cases)

    first, second = [await sandbox.timeline(c["id"]) for c in cases]
    said = [e["text"] for e in first["entries"] if e["kind"] == "message" and e.get("direction", "in") == "in"]
    assert said[0] == "停水了，另外电梯也坏了", "the whole message stays on the first case's timeline"
    together = [e["text"] for e in second["entries"] if e["kind"] == "event" and e["event"] == "filed_together"]
    assert together and cases[0]["ref"] in together[0] and "停水了，另外电梯也坏了" in together[0]
    together = [e["text"] for e in first["entries"] if e["kind"] == "event" and e["event"] == "filed_together"]
    assert together and cases[1]["ref"] in together[0]


async def test_a_neighbours_two_problems_each_join_the_open_case_of_the_same_problem(sandbox: Sandbox) -> None:
    first = await sandbox.say({"resident_id": await sandbox.resident_id("李秀英")}, text="俺们楼从昨天就没水了咋弄")
    (water,) = first["cases"]
    chat = await sandbox.say({"resident_id": await sandbox.resident_id("赵德明")}, text="停水了，另外电梯也坏了")

    refs = {c["category"]: c["ref"] for c in chat["cases"]}
    assert refs["water_supply"] == water["ref"], "the water outage joined the open case"
    assert set(refs) == {"water_supply", "elevator"}
    (answer,) = replies(chat)
    assert f"{water['ref']}（已有 2 人反映）" in answer["text"] and refs["elevator"] in answer["text"]


@pytest.mark.parametrize(
    "text",
    [
        "水管爆了，水漫到楼道里了",  # no join: one description
        # held-out reports the model reads as two categories clause by clause: the second clause
        # says nothing is wrong (the flies come with the smell), or the first does not (only a sound)
        "地漏老是反臭味，还有小飞虫",
        "楼道电表箱里啪啪响，还有火花",
    ],
)
async def test_one_problem_told_in_two_clauses_is_one_case(sandbox: Sandbox, text: str) -> None:
    chat = await sandbox.say({"resident_id": await sandbox.resident_id("李秀英")}, text=text)
    (case,) = chat["cases"]
    assert case["summary"] == text


async def test_an_emergency_keeps_the_whole_message_and_the_other_problem_is_filed_too(sandbox: Sandbox) -> None:
    chat = await sandbox.say({"resident_id": await sandbox.resident_id("李秀英")}, text="楼下着火了！另外电梯也坏了")

    cases = sorted(chat["cases"], key=lambda c: c["id"])
    assert len(cases) == 2
    assert cases[0]["priority"] == "emergency" and cases[0]["summary"] == "楼下着火了！另外电梯也坏了"
    assert (cases[1]["category"], cases[1]["priority"], cases[1]["summary"]) == ("elevator", "normal", "电梯也坏了")
    advice, answer = replies(chat)
    assert "119" in advice["text"]
    assert all(c["ref"] in answer["text"] for c in cases)
