"""What a supervisor does from a case page reaches the routing functions and the audit log."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import col, select

from gridline.storage.models import AuditLog, Case, CaseEvent, Message, NluCorrection, Staff
from tests.console.conftest import csrf_of
from tests.console.factories import CaseFactory


def audit_actions(services, actor: str) -> list[str]:
    with services.db.session() as session:
        entries = session.exec(select(AuditLog).where(AuditLog.actor == actor).order_by(col(AuditLog.id)))
        return [a.action for a in entries]


async def post(client, url: str, **data: str):
    page = await client.get("/console/cases")
    return await client.post(url, data={"csrf_token": csrf_of(page.text), **data})


async def test_an_internal_note_appears_in_the_timeline_and_the_audit_log(client_for, factory, console_services):
    case = factory.case()
    admin = await client_for("admin")
    response = await post(admin, f"/console/cases/{case.id}/note", text="已电话联系物业，明早来修")
    assert response.status_code == 303
    assert response.headers["location"] == f"/console/cases/{case.id}?done=noted"
    html = (await admin.get(response.headers["location"])).text
    assert "已电话联系物业，明早来修" in html and "备注已添加" in html
    assert "case.note" in audit_actions(console_services, "console:admin")


async def test_a_leader_may_add_a_note_to_their_own_case(client_for, factory, console_services):
    case = factory.case(staff="LDR-GX01-01-1")
    leader = await client_for("leader-cheng")
    response = await post(leader, f"/console/cases/{case.id}/note", text="已到现场")
    assert response.status_code == 303
    assert "case.note" in audit_actions(console_services, "console:leader-cheng")


async def test_recategorising_changes_the_category_and_is_audited(client_for, factory, console_services):
    case = factory.case(category="water_supply", text="楼上漏水滴到俺家")
    supervisor = await client_for("sup-lianhua")
    response = await post(supervisor, f"/console/cases/{case.id}/recategorise", category="neighbor_dispute")
    assert response.headers["location"].endswith("done=recategorised")
    with console_services.db.session() as session:
        assert session.get(Case, case.id).category == "neighbor_dispute"
        kinds = [e.kind for e in session.exec(select(CaseEvent).where(CaseEvent.case_id == case.id))]
    assert "recategorised" in kinds
    assert "case.recategorise" in audit_actions(console_services, "console:sup-lianhua")


async def test_an_unknown_category_is_refused(client_for, factory, console_services):
    case = factory.case()
    admin = await client_for("admin")
    response = await post(admin, f"/console/cases/{case.id}/recategorise", category="<b>bogus</b>")
    assert response.headers["location"].endswith("error=action_failed")
    with console_services.db.session() as session:
        assert session.get(Case, case.id).category == "water_supply"


async def test_reassigning_pages_the_chosen_person(client_for, factory, console_services):
    case = factory.case(staff="LDR-GX01-01-1", paged=["LDR-GX01-01-1"])
    admin = await client_for("admin")
    response = await post(admin, f"/console/cases/{case.id}/reassign", staff="MBR-GX01-01-1")
    assert response.headers["location"].endswith("done=reassigned"), response.headers["location"]
    with console_services.db.session() as session:
        member = session.exec(select(Staff).where(Staff.code == "MBR-GX01-01-1")).one()
        assert session.get(Case, case.id).assignee_staff_id == member.id
    assert "case.reassign" in audit_actions(console_services, "console:admin")


async def test_reassigning_to_someone_who_cannot_take_the_case_is_refused(client_for, factory, console_services):
    # 转交 goes only to routing.duty.reassignment_candidates — the drop-down offers no one else, and a
    # crafted POST naming another district's leader changes nothing and is not audited as done.
    case = factory.case(grid="GX01-01-1", staff="LDR-GX01-01-1", paged=["LDR-GX01-01-1"])
    admin = await client_for("admin")
    response = await post(admin, f"/console/cases/{case.id}/reassign", staff="LDR-GX02-01-1")
    assert response.headers["location"] == f"/console/cases/{case.id}?error=cannot_take"
    html = (await admin.get(response.headers["location"])).text
    assert "只能转交给本网格的人员、上级网格的联系领导和督导员，或负责这类问题的部门" in html
    with console_services.db.session() as session:
        leader = session.exec(select(Staff).where(Staff.code == "LDR-GX01-01-1")).one()
        assert session.get(Case, case.id).assignee_staff_id == leader.id
        kinds = [e.kind for e in session.exec(select(CaseEvent).where(CaseEvent.case_id == case.id))]
    assert "reassigned" not in kinds
    assert "case.reassign" not in audit_actions(console_services, "console:admin")


async def test_merging_a_duplicate_closes_it_into_the_kept_case(client_for, factory, console_services):
    keep = factory.case(text="红松嘉园停水")
    duplicate = factory.case(text="红松嘉园也停水了")
    admin = await client_for("admin")
    response = await post(admin, f"/console/cases/{duplicate.id}/merge", into=keep.ref.lower())
    assert response.headers["location"].endswith("done=merged")
    with console_services.db.session() as session:
        merged = session.get(Case, duplicate.id)
        assert merged.duplicate_of_id == keep.id and merged.status == "closed"
        assert session.get(Case, keep.id).report_count == 2
    assert "case.merge" in audit_actions(console_services, "console:admin")


async def test_a_supervisor_cannot_merge_into_a_case_they_cannot_see(client_for, factory, console_services):
    theirs = factory.case(grid="GX01-01-1")
    elsewhere = factory.case(grid="GX02-01-1")
    supervisor = await client_for("sup-lianhua")
    response = await post(supervisor, f"/console/cases/{theirs.id}/merge", into=elsewhere.ref)
    assert response.headers["location"].endswith("error=action_failed")
    with console_services.db.session() as session:
        assert session.get(Case, theirs.id).duplicate_of_id is None


async def test_closing_a_case_and_closing_it_again(client_for, factory, console_services):
    case = factory.case(staff="LDR-GX01-01-1", ack_after=timedelta(minutes=3))
    admin = await client_for("admin")
    first = await post(admin, f"/console/cases/{case.id}/close", reason="居民已自行解决")
    assert first.headers["location"].endswith("done=closed")
    again = await post(admin, f"/console/cases/{case.id}/close", reason="again")
    assert again.headers["location"].endswith("error=case_closed")
    with console_services.db.session() as session:
        assert session.get(Case, case.id).status == "closed"
    assert audit_actions(console_services, "console:admin").count("case.close") == 1


async def test_correcting_a_label_records_training_data(client_for, factory: CaseFactory, console_services):
    case = factory.case(text="楼上滴水滴到俺家", category="water_supply", confidence=0.41)
    with console_services.db.session() as session:
        message = session.exec(select(Message).where(Message.case_id == case.id, Message.direction == "in")).one()
    supervisor = await client_for("sup-lianhua")
    response = await post(supervisor, f"/console/messages/{message.id}/correct", intent="neighbor_dispute",
                          back=f"/console/cases/{case.id}")
    assert response.headers["location"] == f"/console/cases/{case.id}?done=corrected"
    with console_services.db.session() as session:
        correction = session.exec(select(NluCorrection)).one()
    assert (correction.text, correction.original_intent, correction.corrected_intent, correction.corrected_by) == (
        "楼上滴水滴到俺家", "water_supply", "neighbor_dispute", "console:sup-lianhua")
    html = (await supervisor.get(f"/console/cases/{case.id}")).text
    assert "已更正为 邻里纠纷" in html


async def test_a_label_outside_the_trained_intents_is_refused(client_for, factory, console_services):
    case = factory.case()
    with console_services.db.session() as session:
        message = session.exec(select(Message).where(Message.case_id == case.id, Message.direction == "in")).one()
    admin = await client_for("admin")
    response = await post(admin, f"/console/messages/{message.id}/correct", intent="made_up")
    assert "error=bad_label" in response.headers["location"]
    with console_services.db.session() as session:
        assert session.exec(select(NluCorrection)).all() == []
