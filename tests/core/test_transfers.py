"""The department loop at the core: transfer → accept → reply → review, returns, the accept timer,
and the transitions a transfer may not make."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from gridline.bots.page_text import answer_text, page_texts
from gridline.core.conversation import handle_inbound
from gridline.domain.lifecycle import ForbiddenTransition
from gridline.kernel.messages import InboundMessage
from gridline.routing import transfers
from gridline.routing.actions import act_on_case
from gridline.routing.transfers import TRANSFER_TRANSITIONS, Actor, TransferStatus
from gridline.storage.models import AuditLog, Case, CaseEvent, Staff, Transfer
from tests.core.support import record_all_channels

LI_XIUYING = "+8617000010001"  # 桐柏路199号院, grid ZY01-01-1: leader 龙小燕
LEADER = "LDR-ZY01-01-1"
WATER_LOCAL = "DEP-WATER-2"  # 万瑞峰, 郑州自来水中原营业所 (attached to ZY01)
WATER_CITY = "DEP-WATER-1"  # 武华, 郑州自来水投资控股有限公司 (district-wide)
POWER = "DEP-POWER-1"


def staff(services, code: str) -> Staff:
    with services.db.session() as session:
        return session.exec(select(Staff).where(Staff.code == code)).one()


def events(services, case_id: int) -> list[CaseEvent]:
    with services.db.session() as session:
        return list(session.exec(select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)))


def transfer_rows(services, case_id: int) -> list[Transfer]:
    with services.db.session() as session:
        return list(session.exec(select(Transfer).where(Transfer.case_id == case_id).order_by(Transfer.id)))


def attach_photo(services, case_id: int, staff_id: int) -> int:
    from gridline.storage.models import Evidence

    with services.db.session() as session:
        row = Evidence(case_id=case_id, content_type="image/jpeg", size=1000, sha256="0" * 64, channel="telegram",
                       actor=f"staff:{staff_id}", staff_id=staff_id, created_at=services.clock.now())  # fmt: skip
        session.add(row)
        session.flush()
        assert row.id is not None
        return row.id


def case_of(services, case_id: int) -> Case:
    with services.db.session() as session:
        found = session.get(Case, case_id)
        assert found is not None
        return found


async def water_outage(services, drain, sid: str = "T1") -> Case:
    text = "俺们楼从昨天就没水了咋弄"
    msg = InboundMessage(channel="sms", external_id=LI_XIUYING, text=text, provider_message_id=sid)
    ref = (await handle_inbound(services, msg)).case_ref
    await drain(services)
    with services.db.session() as session:
        case = session.exec(select(Case).where(Case.ref == ref)).one()
    leader = staff(services, LEADER)
    assert (await act_on_case(services, case_id=case.id, staff_id=leader.id, action="acknowledge", channel="web")).ok
    await drain(services)
    return case


async def transferred(services, drain) -> Case:
    case = await water_outage(services, drain)
    result = await transfers.transfer_case(
        services, case.id, Actor.of_staff(staff(services, LEADER)), note="主管道破裂，需要自来水公司", channel="sms"
    )
    assert result.ok, answer_text(result)
    await drain(services)
    return case


def pages_to(sent, name: str, reason: str | None = None):
    return [p for channel in sent.values() for p in channel.pages
            if p.staff_name == name and (reason is None or p.reason == reason)]  # fmt: skip


async def test_transfer_accept_reply_approve_asks_the_resident(scenario_services, drain) -> None:
    services = scenario_services
    sent = record_all_channels(services)
    case = await transferred(services, drain)
    (page,) = pages_to(sent, "万瑞峰", "transfer")
    assert "【转办】" in page_texts(page).full and "主管道破裂" in page_texts(page).full
    dept = staff(services, WATER_LOCAL)

    accepted = await transfers.accept_transfer(services, case.id, dept.id, channel="sms")
    assert accepted.ok and "签收" in answer_text(accepted)
    (row,) = transfer_rows(services, case.id)
    assert row.status == "accepted" and row.accepted_by == dept.id and row.due_at is not None

    photo = attach_photo(services, case.id, dept.id)  # the department's photo of the fix (routing.evidence)
    wrong = await transfers.reply_transfer(services, case.id, dept.id, "已抢修", channel="sms",
                                           evidence_ids=(photo + 999,))  # fmt: skip
    assert wrong.ok  # a photo that is not on this case is left out, the reply stands
    assert transfer_rows(services, case.id)[0].evidence_ids == []
    # (the grid rejects it, the department replies again, this time with its photo)
    leader_actor = Actor.of_staff(staff(services, LEADER))
    assert (await transfers.review_transfer(services, case.id, leader_actor, approve=False, note="请附照片")).ok
    replied = await transfers.reply_transfer(services, case.id, dept.id, "已抢修主管道，恢复供水", channel="sms")
    assert replied.ok
    await drain(services)
    review_page = pages_to(sent, "龙小燕", "transfer_replied")[-1]
    assert "已抢修主管道" in page_texts(review_page).full

    approved = await transfers.review_transfer(services, case.id, Actor.of_staff(staff(services, LEADER)),
                                               approve=True, channel="sms")  # fmt: skip
    assert approved.ok
    await drain(services)
    stored = case_of(services, case.id)
    assert stored.status == "resolved" and stored.resolved_by == dept.id  # resolved at the department level
    assert any("解决了吗" in m.text for m in sent["sms"].messages)
    kinds = [e.kind for e in events(services, case.id)]
    for kind in ("transfer_requested", "transfer_accepted", "transfer_replied", "transfer_approved", "resolved"):
        assert kind in kinds
    (row,) = transfer_rows(services, case.id)
    assert row.status == "approved" and row.evidence_ids == [photo]
    with services.db.session() as session:
        actions = {a.action for a in session.exec(select(AuditLog))}
    assert {"transfer.requested", "transfer.accepted", "transfer.replied", "transfer.approved"} <= actions


async def test_a_return_with_a_reason_pages_the_grid_leader_with_it(scenario_services, drain) -> None:
    services = scenario_services
    sent = record_all_channels(services)
    case = await transferred(services, drain)
    dept = staff(services, WATER_LOCAL)
    bad = await transfers.return_transfer(services, case.id, dept.id, "9", channel="sms")
    assert not bad.ok and bad.code == "bad_reason" and "非本部门职责" in answer_text(bad)
    assert transfer_rows(services, case.id)[0].status == "requested"  # nothing changed

    result = await transfers.return_transfer(services, case.id, dept.id, "1", note="应由物业处理", channel="sms")
    assert result.ok
    await drain(services)
    back = pages_to(sent, "龙小燕", "transfer_returned")
    assert back and "非本部门职责" in page_texts(back[-1]).full and "应由物业处理" in page_texts(back[-1]).full
    (row,) = transfer_rows(services, case.id)
    assert (row.status, row.return_reason) == ("returned", "not_our_duty")
    stored = case_of(services, case.id)
    assert stored.status == "acknowledged" and stored.assignee_staff_id == staff(services, LEADER).id
    # A returned case can be transferred again (to the other water department, say).
    again = await transfers.transfer_case(services, case.id, Actor.of_staff(staff(services, LEADER)),
                                          department="郑州自来水投资控股有限公司", channel="web")  # fmt: skip
    assert again.ok


async def test_an_unaccepted_transfer_escalates_once(scenario_services, drain, clock) -> None:
    services = scenario_services
    sent = record_all_channels(services)
    case = await transferred(services, drain)
    clock.advance(hours=1, minutes=59)
    await drain(services)
    assert transfer_rows(services, case.id)[0].status == "requested"
    clock.advance(minutes=2)
    await drain(services)
    await drain(services)
    (row,) = transfer_rows(services, case.id)
    assert row.status == "escalated" and row.escalated_at is not None
    escalated = [p for ch in sent.values() for p in ch.pages if p.reason == "transfer_escalated"]
    assert escalated and all(p.staff_name != "万瑞峰" for p in escalated)
    assert [e.kind for e in events(services, case.id)].count("transfer_escalated") == 1
    # Still acceptable after escalating.
    assert (await transfers.accept_transfer(services, case.id, staff(services, WATER_LOCAL).id, channel="web")).ok


async def test_forbidden_moves_are_refused_and_change_nothing(services, drain) -> None:
    record_all_channels(services)
    case = await transferred(services, drain)
    dept, other = staff(services, WATER_LOCAL), staff(services, POWER)
    before = len(events(services, case.id))

    early = await transfers.reply_transfer(services, case.id, dept.id, "修好了", channel="sms")
    assert not early.ok and early.code == "not_accepted"
    stranger = await transfers.accept_transfer(services, case.id, other.id, channel="sms")
    assert not stranger.ok and stranger.code == "not_your_transfer"
    review = await transfers.review_transfer(services, case.id, Actor.of_staff(staff(services, LEADER)), approve=True)
    assert not review.ok and review.code == "nothing_to_review"
    twice = await transfers.transfer_case(services, case.id, Actor.of_staff(staff(services, LEADER)))
    assert not twice.ok and twice.code == "already_transferred"
    by_dept = await transfers.transfer_case(services, case.id, Actor.of_staff(dept))
    assert not by_dept.ok and by_dept.code == "not_allowed"
    assert len(events(services, case.id)) == before
    assert transfer_rows(services, case.id)[0].status == "requested"

    assert (await transfers.accept_transfer(services, case.id, dept.id, channel="sms")).ok
    again = await transfers.accept_transfer(services, case.id, dept.id, channel="sms")
    assert not again.ok and again.code == "already_accepted" and "万瑞峰" in answer_text(again)


def test_every_transition_outside_the_table_raises() -> None:
    class Row:
        status = ""
        case_id = 0
        id = 0
        department = "x"

    for current in TransferStatus:
        for wanted in TransferStatus:
            if wanted in TRANSFER_TRANSITIONS[current]:
                continue
            row = Row()
            row.status = current.value
            with pytest.raises(ForbiddenTransition):
                transfers.transition(None, row, wanted, "test")  # type: ignore[arg-type]
            assert row.status == current.value


async def test_chasing_follows_an_approved_extension(scenario_services, drain, clock) -> None:
    from gridline.clock import as_utc
    from gridline.routing import extensions

    services = scenario_services
    sent = record_all_channels(services)
    case = await water_outage(services, drain)
    old_due = as_utc(case_of(services, case.id).resolve_due_at)
    leader, level2 = staff(services, LEADER), staff(services, "L2-ZY01-01")
    asked = await extensions.request_extension(services, case.id, Actor.of_staff(leader), amount="3",
                                               reason="需等待管材", channel="sms")  # fmt: skip
    assert asked.ok, answer_text(asked)
    await drain(services)
    assert pages_to(sent, "侯霞", "extension_requested")
    refused = await extensions.decide_extension(services, case.id, Actor.of_staff(leader), approve=True, channel="sms")
    assert not refused.ok and refused.code == "not_allowed"  # never one's own
    granted = await extensions.decide_extension(services, case.id, Actor.of_staff(level2), approve=True,
                                                channel="sms")  # fmt: skip
    assert granted.ok
    new_due = as_utc(case_of(services, case.id).resolve_due_at)
    assert new_due > old_due

    clock.set(old_due + timedelta(hours=1))  # the old deadline has passed: not overdue any more
    await drain(services)
    assert "overdue" not in [e.kind for e in events(services, case.id)]
    clock.set(new_due + timedelta(hours=1))
    await drain(services)
    assert [e.kind for e in events(services, case.id)].count("overdue") == 1
    assert pages_to(sent, "侯霞", "overdue")


async def test_closing_or_resolving_ends_an_open_transfer(services, drain) -> None:
    from gridline.routing.supervision import close_case

    record_all_channels(services)
    case = await transferred(services, drain)
    await close_case(services, case.id, "console:admin", "重复工单")
    await drain(services)
    (row,) = transfer_rows(services, case.id)
    assert row.status == "cancelled"
    late = await transfers.accept_transfer(services, case.id, staff(services, WATER_LOCAL).id, channel="sms")
    assert not late.ok
