"""回访 in the console: the open tasks of the viewer's grids, a call script, and the outcome recorded."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from gridline.kernel.work import in_transaction
from gridline.routing.closure import open_follow_up
from gridline.storage.models import AuditLog, Case, CaseEvent, FollowUp, Page
from tests.console.conftest import add_account, csrf_of
from tests.console.factories import CaseFactory


async def task_for(services, case: Case, reason: str = "no_answer") -> int:
    def body(work):
        stored = work.session.get(Case, case.id)
        return open_follow_up(work, stored, reason).id

    return await in_transaction(services, body)


def resolved(factory: CaseFactory, grid: str = "GX01-01-1") -> Case:
    return factory.case(grid=grid, staff="LDR-GX01-01-1", ack_after=timedelta(minutes=5),
                        resolve_after=timedelta(hours=2))  # fmt: skip


async def test_supervisors_see_the_tasks_of_their_grids_with_a_call_script(client_for, factory, console_services):
    mine, theirs = resolved(factory), resolved(factory, grid="GX02-01-1")
    await task_for(console_services, mine)
    await task_for(console_services, theirs, "low_rating")
    lianhua = (await client_for("sup-lianhua")).get("/console/follow-ups")
    page = (await lianhua).text
    assert mine.ref in page and theirs.ref not in page
    assert "请问问题解决了吗" in page and "程振华" in page  # the script names who resolved it
    admin = (await (await client_for("admin")).get("/console/follow-ups")).text
    assert mine.ref in admin and theirs.ref in admin


async def test_not_solved_on_the_phone_reopens_the_case_one_level_up(client_for, factory, console_services):
    case = resolved(factory)
    task_id = await task_for(console_services, case)
    supervisor = await client_for("sup-lianhua")
    token = csrf_of((await supervisor.get("/console/follow-ups")).text)
    done = await supervisor.post(f"/console/follow-ups/{task_id}",
                                 data={"csrf_token": token, "outcome": "not_solved", "note": "路灯还是不亮"})
    assert done.status_code == 303 and "done=recorded" in done.headers["location"]
    with console_services.db.session() as session:
        stored = session.get(Case, case.id)
        task = session.get(FollowUp, task_id)
        kinds = [e.kind for e in session.exec(select(CaseEvent).where(CaseEvent.case_id == case.id))]
        paged = session.exec(select(Page).where(Page.case_id == case.id, Page.reason == "reopened_by_resident")).all()
        audited = session.exec(select(AuditLog).where(AuditLog.action == "follow_up.record")).all()
    assert stored is not None and stored.status == "paged"
    assert task is not None and (task.outcome, task.called_by) == ("not_solved", "console:sup-lianhua")
    assert "reopened_by_resident" in kinds and "follow_up_called" in kinds and paged and len(audited) == 1
    again = await supervisor.post(f"/console/follow-ups/{task_id}", data={"csrf_token": token, "outcome": "satisfied"})
    assert "error=already_recorded" in again.headers["location"]


async def test_satisfied_on_the_phone_confirms_and_records_the_rating(client_for, factory, console_services):
    case = resolved(factory)
    task_id = await task_for(console_services, case)
    supervisor = await client_for("sup-lianhua")
    token = csrf_of((await supervisor.get("/console/follow-ups")).text)
    url = f"/console/follow-ups/{task_id}"
    missing = await supervisor.post(url, data={"csrf_token": token, "outcome": "satisfied"})
    assert "error=bad_outcome" in missing.headers["location"]  # a solved call needs the rating given
    await supervisor.post(f"/console/follow-ups/{task_id}",
                          data={"csrf_token": token, "outcome": "satisfied", "rating": "4"})
    with console_services.db.session() as session:
        stored = session.get(Case, case.id)
        kinds = [e.kind for e in session.exec(select(CaseEvent).where(CaseEvent.case_id == case.id))]
    assert stored is not None and (stored.status, stored.rating) == ("closed", 4)
    assert "resident_confirmed" in kinds


async def test_whoever_handled_the_case_may_not_make_its_call(client_for, factory, console_services):
    add_account(console_services, "sup-cheng", "supervisor", grid="GX01-01", staff="LDR-GX01-01-1")
    case = resolved(factory)  # resolved by LDR-GX01-01-1
    task_id = await task_for(console_services, case)
    him = await client_for("sup-cheng")
    token = csrf_of((await him.get("/console/follow-ups")).text)
    refused = await him.post(f"/console/follow-ups/{task_id}",
                             data={"csrf_token": token, "outcome": "satisfied", "rating": "5"})
    assert "error=own_case" in refused.headers["location"]
    auditor = await client_for("auditor")
    token = csrf_of((await auditor.get("/console/follow-ups")).text)
    url = f"/console/follow-ups/{task_id}"
    forbidden = await auditor.post(url, data={"csrf_token": token, "outcome": "unreachable"})
    assert forbidden.status_code == 403
    no_csrf = await (await client_for("admin")).post(f"/console/follow-ups/{task_id}", data={"outcome": "unreachable"})
    assert no_csrf.status_code == 403
    with console_services.db.session() as session:
        assert session.get(FollowUp, task_id).called_at is None  # type: ignore[union-attr]
