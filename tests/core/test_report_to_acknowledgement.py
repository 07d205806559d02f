"""A resident's report becomes a case, the on-duty leader is paged, acknowledges, and the resident
is told — the same story on SQLite, PostgreSQL and PostgreSQL + Redis."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from gridline.core.conversation import handle_inbound
from gridline.kernel.messages import InboundMessage
from gridline.routing.actions import act_on_case
from gridline.storage.models import Case, Page, Staff
from tests.core.support import record_all_channels

LI_XIUYING = "+8617000010001"  # demo resident at 桐柏路199号院, grid ZY01-01-1


def sms(text: str, sender: str = LI_XIUYING, sid: str | None = None) -> InboundMessage:
    return InboundMessage(channel="sms", external_id=sender, text=text, provider_message_id=sid)


def staff(services, code: str) -> Staff:
    with services.db.session() as session:
        return session.exec(select(Staff).where(Staff.code == code)).one()


async def test_report_pages_on_duty_leader_who_acknowledges_and_resident_is_told(scenario_services, drain, clock):
    services = scenario_services
    sent = record_all_channels(services)

    outcome = await handle_inbound(services, sms("俺们楼从昨天就没水了咋弄", sid="SM1"))
    assert outcome.created_case and outcome.case_ref
    assert "龙小燕" in outcome.replies[-1].text  # Thursday 10:00: the leader is on duty
    await drain(services)

    # the leader's first channel is the web inbox
    assert [p.staff_name for p in sent["web"].pages] == ["龙小燕"]
    page = sent["web"].pages[0]
    assert page.case_ref == outcome.case_ref and page.category == "water_supply"

    leader = staff(services, "LDR-ZY01-01-1")
    result = await act_on_case(
        services, case_id=page.case_id, staff_id=leader.id, action="acknowledge", channel="web", page_id=page.page_id
    )
    assert result.ok and result.code == "acknowledged"
    await drain(services)
    told = [m.text for m in sent["sms"].messages]
    assert any("龙小燕" in text and "接单" in text for text in told)

    # no further page, ever: an hour later nothing else was sent
    clock.advance(hours=1)
    await drain(services)
    assert len(sent["web"].pages) + len(sent["sms"].pages) + len(sent["telegram"].pages) == 1
    with services.db.session() as session:
        case = session.exec(select(Case).where(Case.ref == outcome.case_ref)).one()
        assert case.status == "acknowledged"
        assert case.acknowledged_by == leader.id


async def test_unacknowledged_page_escalates_to_backup_then_level2(services, drain, clock):
    sent = record_all_channels(services)
    outcome = await handle_inbound(services, sms("桐柏路199号院的路灯坏了好几天了"))
    await drain(services)
    assert [p.staff_name for p in sent["web"].pages] == ["龙小燕"]
    clock.advance(timedelta(minutes=16))
    await drain(services)
    clock.advance(timedelta(minutes=16))
    await drain(services)
    with services.db.session() as session:
        pages = session.exec(select(Page).order_by(Page.id)).all()
        reasons = [p.reason for p in pages]
        case = session.exec(select(Case).where(Case.ref == outcome.case_ref)).one()
    assert reasons[:3] == ["on_duty_leader", "backup", "level2_contact"]
    assert case.status == "escalated"


async def test_the_resident_hears_of_each_person_the_case_went_up_to_once(services, drain, clock):
    """An emergency nobody acknowledges repeats its policy three times: the resident was told
    「暂未得到回应，已上报给…」 at every step of every round (six times in 13 minutes, naming the same
    people); now only when someone new was paged."""
    sent = record_all_channels(services)
    outcome = await handle_inbound(services, sms("我家老人一个人在家摔倒了，起不来"))
    for _ in range(12):
        clock.advance(timedelta(minutes=3))
        await drain(services)
    with services.db.session() as session:
        case = session.exec(select(Case).where(Case.ref == outcome.case_ref)).one()
        rounds = {p.round for p in session.exec(select(Page).where(Page.case_id == case.id))}
    assert len(rounds) > 1, "the premise: the policy repeated"
    escalated = [m for m in sent["sms"].messages if m.target == LI_XIUYING and "已上报给" in m.text]
    names = [m.text.split("已上报给", 1)[1] for m in escalated]
    assert escalated, "the resident hears that it went up"
    assert len(names) == len(set(names)), names
