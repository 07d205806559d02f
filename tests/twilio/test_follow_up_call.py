"""The voice channel places the 回访 call: a supervisor clicks "call" on a follow-up task in the
console, the fake Twilio rings the resident, who hears the script and answers with keys."""

from __future__ import annotations

import re

import httpx
import pytest
from sqlmodel import select

from gridline.domain.lifecycle import ForbiddenTransition
from gridline.kernel.work import in_transaction
from gridline.routing.actions import act_on_case
from gridline.routing.closure import open_follow_up
from gridline.routing.followup_calls import check_call_transition
from gridline.storage.models import AuditLog, Case, CaseEvent, FollowUp, FollowUpCall, Page
from tests.conftest import BACKENDS
from tests.console.conftest import PASSWORD, add_account, csrf_of
from tests.twilio.conftest import LI_XIUYING, TwilioWorld

SUPERVISOR = "sup-zhongyuan"  # supervisor of the level-2 grid ZY01-01, who handled nothing


async def resolved_task(world: TwilioWorld) -> tuple[Case, int]:
    """李秀英 reports by SMS, 龙小燕 acknowledges and resolves, a 回访 task is opened for the case."""
    resident = world.phone(LI_XIUYING)
    await resident.text("俺们楼从昨天就没水了咋弄")
    await world.settle()
    case = world.cases()[-1]
    leader = world.staff("LDR-ZY01-01-1").id
    for action in ("acknowledge", "resolve"):
        result = await act_on_case(world.services, case_id=case.id, staff_id=leader, action=action, channel="web")
        assert result.ok
    await world.settle()

    def task(work) -> int:
        return open_follow_up(work, work.session.get(Case, case.id), "no_answer").id

    return case, await in_transaction(world.services, task)


async def supervisor(world: TwilioWorld) -> httpx.AsyncClient:
    add_account(world.services, SUPERVISOR, "supervisor", grid="ZY01-01")
    client = httpx.AsyncClient(base_url=world.base_url)
    form = await client.get("/console/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token
    logged_in = await client.post("/console/login", data={"name": SUPERVISOR, "password": PASSWORD,
                                                          "csrf_token": token.group(1), "next": "/console/follow-ups"})
    assert logged_in.status_code == 303
    return client


async def click_call(client: httpx.AsyncClient, task_id: int) -> httpx.Response:
    page = (await client.get("/console/follow-ups")).text
    assert f'action="/console/follow-ups/{task_id}/call"' in page
    return await client.post(f"/console/follow-ups/{task_id}/call", data={"csrf_token": csrf_of(page)})


def calls(world: TwilioWorld) -> list[FollowUpCall]:
    with world.services.db.session() as session:
        return list(session.exec(select(FollowUpCall).order_by(FollowUpCall.id)))


def task_of(world: TwilioWorld, task_id: int) -> FollowUp:
    with world.services.db.session() as session:
        task = session.get(FollowUp, task_id)
        assert task is not None
        return task


def kinds(world: TwilioWorld, case_id: int) -> list[str]:
    with world.services.db.session() as session:
        return [e.kind for e in session.exec(select(CaseEvent).where(CaseEvent.case_id == case_id)
                                             .order_by(CaseEvent.id))]  # fmt: skip


@pytest.mark.parametrize("world", BACKENDS, indirect=True)
async def test_the_resident_presses_1_then_rates_and_the_case_is_confirmed_and_closed(world: TwilioWorld) -> None:
    case, task_id = await resolved_task(world)
    client = await supervisor(world)
    try:
        placed = await click_call(client, task_id)
        assert placed.status_code == 303 and "done=call_placed" in placed.headers["location"]
        (row,) = calls(world)
        assert (row.status, row.placed_by) == ("ringing", f"console:{SUPERVISOR}") and row.call_sid
        await world.settle()
        call = world.phone(LI_XIUYING).expect_call()
        assert call.sid == row.call_sid
        assert "问题解决了吗？满意请按1，没解决请按2" in call.last_heard and "供水" in call.last_heard
        await call.press("1")
        assert "打分" in call.last_heard
        await call.press("4")
        assert "感谢您的评价" in call.last_heard and call.ended
        await world.settle()
        (row,) = calls(world)
        assert (row.status, row.rating) == ("satisfied", 4)
        stored = world.case(case.ref)
        assert (stored.status, stored.rating) == ("closed", 4)
        task = task_of(world, task_id)
        assert (task.outcome, task.called_by) == ("satisfied", f"console:{SUPERVISOR}")
        seen = kinds(world, case.id)
        assert {"follow_up_call", "resident_confirmed", "rated", "follow_up_called"} <= set(seen)
        assert seen.index("resident_confirmed") < seen.index("rated")
        with world.services.db.session() as session:
            assert session.exec(select(AuditLog).where(AuditLog.action == "follow_up.call")).all()
        timeline = (await client.get(f"/console/cases/{case.id}")).text
        assert "系统回访电话" in timeline
        assert case.ref not in (await client.get("/console/follow-ups")).text  # done, off the list
    finally:
        await client.aclose()


@pytest.mark.parametrize("world", BACKENDS, indirect=True)
async def test_the_resident_presses_2_and_the_case_reopens_one_level_up(world: TwilioWorld) -> None:
    case, task_id = await resolved_task(world)
    client = await supervisor(world)
    try:
        await click_call(client, task_id)
        await world.settle()
        call = world.phone(LI_XIUYING).expect_call()
        await call.press("2")
        assert "上一级网格" in call.last_heard and call.ended
        await world.settle()
        (row,) = calls(world)
        assert row.status == "not_solved"
        assert world.case(case.ref).status == "paged"
        reopened = [p for p in world.pages(case.id) if p.reason == "reopened_by_resident"]
        assert reopened and {p.staff_id for p in reopened} == {world.staff("L2-ZY01-01").id}  # 侯霞, level 2
        task = task_of(world, task_id)
        assert (task.outcome, task.called_by) == ("not_solved", f"console:{SUPERVISOR}")
        assert "reopened_by_resident" in kinds(world, case.id)
    finally:
        await client.aclose()


async def test_no_answer_leaves_the_task_open_and_a_wrong_key_is_asked_again(world: TwilioWorld) -> None:
    case, task_id = await resolved_task(world)
    client = await supervisor(world)
    try:
        world.fake.call_outcomes[LI_XIUYING] = "no-answer"
        await click_call(client, task_id)
        await world.settle()
        assert [c.status for c in calls(world)] == ["unreachable"]
        page = (await client.get("/console/follow-ups")).text
        assert "无人接听" in page and case.ref in page
        assert task_of(world, task_id).called_at is None

        world.fake.call_outcomes[LI_XIUYING] = "human"
        again = await click_call(client, task_id)
        assert "done=call_placed" in again.headers["location"]
        refused = await click_call(client, task_id)  # the second call is still ringing
        assert "error=call_in_progress" in refused.headers["location"]
        await world.settle()
        call = world.phone(LI_XIUYING).expect_call()
        await call.press("9")
        assert "没有听清" in call.last_heard and "按1" in call.last_heard
        await call.stay_silent()
        await call.stay_silent()
        assert "稍后工作人员会再联系您" in call.heard and call.ended
        await world.settle()
        assert [c.status for c in calls(world)] == ["unreachable", "no_key"]
        assert task_of(world, task_id).called_at is None and world.case(case.ref).status == "resolved"
    finally:
        await client.aclose()


async def test_an_answering_machine_is_not_the_resident(world: TwilioWorld) -> None:
    _case, task_id = await resolved_task(world)
    client = await supervisor(world)
    try:
        world.fake.call_outcomes[LI_XIUYING] = "machine"
        await click_call(client, task_id)
        await world.settle()
        assert [c.status for c in calls(world)] == ["unreachable"]
        assert "解决了吗" not in world.phone(LI_XIUYING).expect_call().heard
    finally:
        await client.aclose()


async def test_a_forged_webhook_is_refused_and_changes_nothing(world: TwilioWorld) -> None:
    _case, task_id = await resolved_task(world)
    client = await supervisor(world)
    try:
        await click_call(client, task_id)
        (row,) = calls(world)
        async with httpx.AsyncClient() as http:
            forged = await http.post(f"{world.base_url}/webhooks/twilio/voice/follow-up/{row.id}/key?step=solved",
                                     data={"CallSid": row.call_sid, "Digits": "2"})  # fmt: skip
        assert forged.status_code == 403
        assert calls(world)[0].status == "ringing" and task_of(world, task_id).called_at is None
        with world.services.db.session() as session:
            assert not session.exec(select(Page).where(Page.reason == "reopened_by_resident")).all()
    finally:
        await client.aclose()


def test_forbidden_call_transitions_are_refused() -> None:
    for current, wanted in (("placing", "answered"), ("satisfied", "answered"), ("not_solved", "confirmed"),
                            ("ringing", "satisfied"), ("failed", "ringing"), ("no_key", "confirmed")):  # fmt: skip
        with pytest.raises(ForbiddenTransition):
            check_call_transition(current, wanted)
    assert check_call_transition("answered", "confirmed") == "confirmed"
