"""走千家 in the console: a household's visits, logging one there or from the staff inbox, scope."""

from __future__ import annotations

from datetime import timedelta

from tests.console.conftest import csrf_of
from tests.visits.support import all_visits, case, household, open_visit

GRID = "GX01-01-1"  # 程振华 (leader-cheng) leads it: 2-3-101 (独居老人, 困难户) and 6-1-502 (高龄)
ROOM = "2-3-101"


async def test_a_leader_logs_a_problem_on_the_household_page_and_it_becomes_a_proactive_case(
    console_services, client_for, drain
):
    await drain(console_services)  # visits planned
    hid = household(console_services, ROOM, GRID).id
    owed = open_visit(console_services, ROOM, GRID)
    leader = await client_for("leader-cheng")
    page = await leader.get(f"/console/households/{hid}")
    assert page.status_code == 200 and "走千家" in page.text and "待走访" in page.text

    response = await leader.post(
        f"/console/households/{hid}/visit",
        data={"csrf_token": csrf_of(page.text), "outcome": "problem", "note": "暖气片漏水，地面湿滑"},
    )
    assert response.status_code == 303 and "done=visit_logged" in response.headers["location"]
    (done,) = [v for v in all_visits(console_services) if v.id == owed.id]
    assert (done.status, done.outcome, done.channel) == ("done", "problem", "web")
    found = case(console_services, done.case_id or 0)
    assert found.proactive and found.grid_code == GRID

    again = await leader.get(response.headers["location"])
    assert "暖气片漏水" in again.text and "已记录走访" in again.text
    admin = await client_for("admin")  # (a leader's case list holds the cases paged to them)
    listing = await admin.get("/console/cases")
    assert found.ref in listing.text and "主动发现" in listing.text
    detail = await admin.get(f"/console/cases/{found.id}")
    assert "主动发现" in detail.text


async def test_outsiders_cannot_log_a_households_visit(console_services, client_for, drain):
    await drain(console_services)
    hid = household(console_services, ROOM, GRID).id
    before = [(v.id, v.status) for v in all_visits(console_services)]
    for name, expected in (("sup-fengyang", 404), ("auditor", 403)):
        client = await client_for(name)
        token = csrf_of((await client.get("/console/cases")).text)
        response = await client.post(f"/console/households/{hid}/visit", data={"csrf_token": token, "outcome": "ok"})
        assert response.status_code == expected, (name, response.status_code)
    leader = await client_for("leader-cheng")
    token = csrf_of((await leader.get(f"/console/households/{hid}")).text)
    response = await leader.post(f"/console/households/{hid}/visit", data={"csrf_token": token, "outcome": "maybe"})
    assert "error=visit_bad_outcome" in response.headers["location"]
    other = household(console_services, "2-301", "ZY01-01-2").id
    response = await leader.post(f"/console/households/{other}/visit", data={"csrf_token": token, "outcome": "ok"})
    assert response.status_code == 404  # not in the leader's roster scope: not even its existence
    assert [(v.id, v.status) for v in all_visits(console_services)] == before


async def test_the_staff_inbox_lists_visits_owed_and_logs_one(console_services, client_for, drain, clock):
    await drain(console_services)
    owed = open_visit(console_services, ROOM, GRID)  # weekly: due in a week
    leader = await client_for("leader-cheng")
    inbox = await leader.get("/console/inbox")
    assert f'id="visit-{owed.id}"' not in inbox.text  # not yet within the list's days
    clock.set(owed.due_at - timedelta(days=1))
    leader = await client_for("leader-cheng")  # (a week on: signed in again)
    inbox = await leader.get("/console/inbox")
    assert f'id="visit-{owed.id}"' in inbox.text and ROOM in inbox.text

    response = await leader.post(
        f"/console/inbox/visits/{owed.id}/log", data={"csrf_token": csrf_of(inbox.text), "outcome": "ok"}
    )
    assert response.status_code == 303 and "done=visit_logged" in response.headers["location"]
    (done,) = [v for v in all_visits(console_services) if v.id == owed.id]
    assert (done.status, done.outcome, done.channel) == ("done", "ok", "web")
    again = await leader.post(
        f"/console/inbox/visits/{owed.id}/log", data={"csrf_token": csrf_of(inbox.text), "outcome": "ok"}
    )
    assert again.status_code == 404  # no longer owed


async def test_the_dashboard_and_its_csv_count_visit_coverage_overdue_and_proactive_cases(
    console_services, client_for, drain, clock
):
    await drain(console_services)
    owed = open_visit(console_services, ROOM, GRID)
    other = open_visit(console_services, "1-1-101", "ZY01-01-1")  # also weekly, in another grid
    assert other.due_at == owed.due_at
    clock.set(owed.due_at - timedelta(hours=2))  # 2-3-101 is visited on its last day
    leader = await client_for("leader-cheng")
    page = await leader.get(f"/console/households/{owed.household_id}")
    await leader.post(f"/console/households/{owed.household_id}/visit",
                      data={"csrf_token": csrf_of(page.text), "outcome": "problem", "note": "门锁坏了"})
    clock.set(owed.due_at + timedelta(hours=1))  # 1-1-101's deadline passed unvisited
    admin = await client_for("admin")
    board = await admin.get("/console/dashboard?days=14")
    assert board.status_code == 200 and "走访覆盖率" in board.text and "主动发现占比" in board.text
    csv = (await admin.get("/console/dashboard.csv?days=14")).text
    rows = [line.split(",") for line in csv.splitlines()]

    def figure(section: str, key: str, name: str) -> str:
        (row,) = [r for r in rows if r[0] == section and r[1] == key and r[3] == name]
        return row[4]

    assert figure("走千家·按网格", GRID, "走访覆盖率（%）") == "100.0"
    assert figure("走千家·按网格", "ZY01-01-1", "逾期未走访") == "1"
    assert figure("走千家·按网格", "ZY01-01-1", "走访覆盖率（%）") == "0.0"
    assert figure("总体", "all", "主动发现（件）") == "1"
    assert float(figure("总体", "all", "主动发现占比（%）")) > 0


async def test_the_visit_owed_is_said_once(console_services, client_for, drain):
    """The household page read "待走访: 待走访 2026-12-09 20:00 前": the label and a badge saying the same."""
    await drain(console_services)
    hid = household(console_services, ROOM, GRID).id
    page = (await (await client_for("leader-cheng")).get(f"/console/households/{hid}")).text
    owed = page.split('id="visits"', 1)[1].split("</p>", 1)[0]
    assert owed.count("待走访") == 1, owed
    assert "前" in owed and "负责人" in owed
