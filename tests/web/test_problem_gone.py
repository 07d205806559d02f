"""「不用来了，电已经来了」: a resident whose problem went away before anyone solved it withdraws the
case (居民撤单) after saying which one — instead of a new case being filed for the words."""

from __future__ import annotations

from datetime import UTC

from sqlmodel import select

from gridline.i18n import t
from gridline.storage.models import Case, EscalationStep
from tests.web.support import Sandbox, replies

LEADER = "LDR-ZY01-01-1"  # 龙小燕, leader of 桐柏路199号院's grid


async def reported_power_cut(sandbox: Sandbox) -> tuple[dict[str, int], dict]:
    resident = {"resident_id": await sandbox.resident_id("李秀英")}
    chat = await sandbox.say(resident, text="家里停电了，整栋楼都没电")
    (case,) = chat["cases"]
    return resident, case


async def test_words_that_the_problem_is_gone_ask_about_the_case_and_yes_withdraws_it(sandbox: Sandbox) -> None:
    resident, case = await reported_power_cut(sandbox)
    leader_id = await sandbox.staff_id(LEADER)
    assert [p["status"] for p in await sandbox.inbox(leader_id)] == ["delivered"]

    chat = await sandbox.say(resident, text="不用来了，电已经来了")
    asked = replies(chat)[-1]
    assert asked["text"] == t("case.gone_ask", "zh-CN", ref=case["ref"], category=t("category.power_supply", "zh-CN"))
    assert [c["ref"] for c in chat["cases"]] == [case["ref"]], "no case filed for the words"

    chat = await sandbox.say(resident, choice=asked["options"][0]["data"])
    assert replies(chat)[-1]["text"] == t("case.withdrawn", "zh-CN", ref=case["ref"])
    assert chat["cases"][0]["status"] == "closed"
    assert [p["status"] for p in await sandbox.inbox(leader_id)] == ["expired"]
    timeline = await sandbox.timeline(case["id"])
    last = [e for e in timeline["entries"] if e["kind"] == "event"][-1]
    assert last["event"] == "withdrawn_by_resident" and "电已经来了" in last["text"]
    with sandbox.services.db.session() as session:
        steps = session.exec(select(EscalationStep).where(EscalationStep.case_id == case["id"])).all()
        assert steps and all(s.status != "pending" for s in steps), "nobody is paged about it later"


async def test_no_keeps_the_case_open(sandbox: Sandbox) -> None:
    resident, case = await reported_power_cut(sandbox)
    chat = await sandbox.say(resident, text="电来了")
    chat = await sandbox.say(resident, choice=replies(chat)[-1]["options"][1]["data"])
    assert replies(chat)[-1]["text"] == t("case.gone_kept", "zh-CN", ref=case["ref"])
    with sandbox.services.db.session() as session:
        assert session.exec(select(Case.status).where(Case.ref == case["ref"])).one() == "paged"


async def test_with_no_open_case_the_words_file_nothing(sandbox: Sandbox) -> None:
    resident = {"resident_id": await sandbox.resident_id("赵德明")}
    chat = await sandbox.say(resident, text="不用来了，水已经来了")
    assert chat["cases"] == []
    assert replies(chat)[-1]["text"] == t("conversation.glad_gone", "zh-CN")


async def test_in_english_too(sandbox: Sandbox) -> None:
    resident = {"resident_id": await sandbox.resident_id("David Chen")}
    chat = await sandbox.say(resident, text="The power is out in my whole building")
    (case,) = chat["cases"]
    chat = await sandbox.say(resident, text="Never mind, the power is back")
    chat = await sandbox.say(resident, choice=replies(chat)[-1]["options"][0]["data"])
    assert replies(chat)[-1]["text"] == t("case.withdrawn", "en", ref=case["ref"])


def test_a_case_withdrawn_before_its_acknowledgement_limit_is_no_miss_of_the_response_rate() -> None:
    from datetime import datetime, timedelta

    from gridline.console.metrics import CaseFact, summarise

    at = datetime.now(UTC)

    def fact(n: int, *, withdrawn: bool, closed_after: float) -> CaseFact:
        return CaseFact(
            id=n, created_at=at, category="power_supply", grid_code="ZY01-01-1", staff_id=None,
            acknowledged_at=None, resolved_at=None, closed_at=at + timedelta(minutes=closed_after),
            ack_due_at=at + timedelta(minutes=30), resolve_due_at=None, rating=None, withdrawn=withdrawn,
        )  # fmt: skip

    summary = summarise([fact(1, withdrawn=True, closed_after=5), fact(2, withdrawn=True, closed_after=45),
                         fact(3, withdrawn=False, closed_after=5)], at + timedelta(hours=1))  # fmt: skip
    assert (summary.with_ack_limit, summary.ack_in_time) == (2, 0), "the late withdrawal and the closed case count"
