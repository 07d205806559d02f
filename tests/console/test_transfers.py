"""The department loop and extensions from the console's case page: transfer, review, extension —
each refused with a clear reason when it may not happen, and nothing changed then."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from gridline.console.metrics import resolver_levels
from gridline.routing import transfers
from gridline.storage.models import AuditLog, Case, Extension, Staff, Transfer
from tests.console.conftest import csrf_of
from tests.console.factories import CaseFactory

CITY_WATER = "郑州自来水投资控股有限公司"  # DEP-WATER-1, district-wide: the water department for GX01


def held(factory: CaseFactory) -> Case:
    return factory.case(grid="GX01-01-1", staff="LDR-GX01-01-1", ack_after=timedelta(minutes=5))


def rows(services, model, case_id: int) -> list:
    with services.db.session() as session:
        return list(session.exec(select(model).where(model.case_id == case_id).order_by(model.id)))


def staff_id(services, code: str) -> int:
    with services.db.session() as session:
        return session.exec(select(Staff.id).where(Staff.code == code)).one()


async def test_a_supervisor_transfers_then_approves_the_department_reply(client_for, factory, console_services):
    case = held(factory)
    supervisor = await client_for("sup-lianhua")
    page = (await supervisor.get(f"/console/cases/{case.id}")).text
    assert CITY_WATER in page and "转办职能部门" in page and "限时" in page
    token = csrf_of(page)
    done = await supervisor.post(f"/console/cases/{case.id}/transfer",
                                 data={"csrf_token": token, "department": CITY_WATER, "note": "主管道"})
    assert done.status_code == 303 and "done=transferred" in done.headers["location"]
    again = await supervisor.post(f"/console/cases/{case.id}/transfer", data={"csrf_token": token})
    assert "error=already_transferred" in again.headers["location"]
    assert [t.status for t in rows(console_services, Transfer, case.id)] == ["requested"]

    early = await supervisor.post(f"/console/cases/{case.id}/transfer/review",
                                  data={"csrf_token": token, "decision": "approve"})
    assert "error=nothing_to_review" in early.headers["location"]
    dept = staff_id(console_services, "DEP-WATER-1")
    assert (await transfers.accept_transfer(console_services, case.id, dept, channel="web")).ok
    assert (await transfers.reply_transfer(console_services, case.id, dept, "已修复", channel="web")).ok
    page = (await supervisor.get(f"/console/cases/{case.id}")).text
    assert "已修复" in page and "部门回单" in page and "通过（请居民确认）" in page

    approved = await supervisor.post(f"/console/cases/{case.id}/transfer/review",
                                     data={"csrf_token": token, "decision": "approve", "note": "核实无误"})
    assert "done=approved" in approved.headers["location"]
    with console_services.db.session() as session:
        stored = session.get(Case, case.id)
        audited = {a.action for a in session.exec(select(AuditLog).where(AuditLog.actor == "console:sup-lianhua"))}
    assert stored is not None and (stored.status, stored.resolved_by) == ("resolved", dept)
    assert {"transfer.requested", "transfer.approved"} <= audited
    with console_services.db.session() as session:
        assert resolver_levels(session, {dept}) == {dept: "department"}  # 三率: resolved at the department level
    page = (await supervisor.get(f"/console/cases/{case.id}")).text
    assert "回单审核通过" in page and "核实无误" in page  # on the timeline, with the review note


async def test_the_review_button_of_a_case_with_no_resident_does_not_promise_to_ask_one(
    client_for, factory, console_services
):
    """A leader's own finding (主动发现) has nobody to ask 解决了吗: its approve button says 通过 only."""
    case = held(factory)
    with console_services.db.session() as session:
        stored = session.get(Case, case.id)
        stored.resident_id = None
        session.add(stored)
        session.commit()
    supervisor = await client_for("sup-lianhua")
    token = csrf_of((await supervisor.get(f"/console/cases/{case.id}")).text)
    await supervisor.post(f"/console/cases/{case.id}/transfer", data={"csrf_token": token, "department": CITY_WATER})
    dept = staff_id(console_services, "DEP-WATER-1")
    assert (await transfers.accept_transfer(console_services, case.id, dept, channel="web")).ok
    assert (await transfers.reply_transfer(console_services, case.id, dept, "已修复", channel="web")).ok
    page = (await supervisor.get(f"/console/cases/{case.id}")).text
    assert "已修复" in page and 'value="approve"' in page
    assert "请居民确认" not in page, "nobody to ask"


async def test_a_supervisor_outside_the_grid_cannot_transfer(client_for, factory, console_services):
    case = held(factory)
    other = await client_for("sup-fengyang")
    token = csrf_of((await other.get("/console/cases")).text)
    refused = await other.post(f"/console/cases/{case.id}/transfer", data={"csrf_token": token})
    assert refused.status_code == 404
    assert rows(console_services, Transfer, case.id) == []


async def test_an_extension_is_decided_by_someone_else_and_moves_the_deadline(client_for, factory, console_services):
    case = held(factory)
    supervisor, admin = await client_for("sup-lianhua"), await client_for("admin")
    token = csrf_of((await supervisor.get(f"/console/cases/{case.id}")).text)
    bad = await supervisor.post(f"/console/cases/{case.id}/extension",
                                data={"csrf_token": token, "amount": "99", "reason": "等配件"})
    assert "error=bad_amount" in bad.headers["location"]
    asked = await supervisor.post(f"/console/cases/{case.id}/extension",
                                  data={"csrf_token": token, "amount": "3", "reason": "等配件"})
    assert "done=extension_requested" in asked.headers["location"]
    own = await supervisor.post(f"/console/cases/{case.id}/extension/decide",
                                data={"csrf_token": token, "decision": "grant"})
    assert "error=not_allowed" in own.headers["location"]
    admin_token = csrf_of((await admin.get(f"/console/cases/{case.id}")).text)
    granted = await admin.post(f"/console/cases/{case.id}/extension/decide",
                               data={"csrf_token": admin_token, "decision": "grant"})
    assert "done=extension_approved" in granted.headers["location"]
    (extension,) = rows(console_services, Extension, case.id)
    with console_services.db.session() as session:
        stored = session.get(Case, case.id)
    assert extension.status == "approved" and stored is not None
    assert stored.resolve_due_at == extension.new_due_at and extension.old_due_at is not None
    assert extension.new_due_at > extension.old_due_at
