"""催办 and 督办: the holder is chased towards the deadline, then the case goes up the levels when late."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from gridline.bots.page_text import page_texts
from gridline.clock import as_utc
from gridline.core.conversation import handle_inbound
from gridline.kernel.messages import InboundMessage
from gridline.routing.actions import act_on_case
from gridline.storage.models import Case, CaseEvent, Staff
from tests.core.support import record_all_channels

SHANGHAI = ZoneInfo("Asia/Shanghai")
LI_XIUYING = "+8617000010001"  # 桐柏路199号院, grid ZY01-01-1: leader 龙小燕, level 2 侯霞, level 1 夏芳


def staff_id(services, code: str) -> int:
    with services.db.session() as session:
        return session.exec(select(Staff.id).where(Staff.code == code)).one()


async def acknowledged_water_outage(services, drain) -> Case:
    text = "俺们楼从昨天就没水了咋弄"
    msg = InboundMessage(channel="sms", external_id=LI_XIUYING, text=text, provider_message_id="D1")
    ref = (await handle_inbound(services, msg)).case_ref
    await drain(services)
    with services.db.session() as session:
        case = session.exec(select(Case).where(Case.ref == ref)).one()
    leader = staff_id(services, "LDR-ZY01-01-1")
    assert (await act_on_case(services, case_id=case.id, staff_id=leader, action="acknowledge", channel="web")).ok
    await drain(services)
    return case


def chased(sent, who: str, mark: str) -> list[str]:
    said = [page_texts(p).full for channel in sent.values() for p in channel.pages if p.staff_name == who]
    return [text for text in said if mark in text]


def chase_events(services, case_id: int) -> list[tuple[str, int]]:
    with services.db.session() as session:
        events = session.exec(select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id))
        return [(e.kind, e.data.get("level", 0)) for e in events if e.kind in ("deadline_reminder", "deadline_due",
                                                                               "overdue")]  # fmt: skip


async def test_chasing_over_the_national_day_holiday(services, drain, clock) -> None:
    # Tuesday 2026-09-29, 10:00: a 3-working-day limit skips Oct 1–7 and ends with Friday Oct 9.
    clock.set(datetime(2026, 9, 29, 10, 0, tzinfo=SHANGHAI))
    sent = record_all_channels(services)
    case = await acknowledged_water_outage(services, drain)
    assert as_utc(case.resolve_due_at).astimezone(SHANGHAI) == datetime(2026, 10, 10, 0, 0, tzinfo=SHANGHAI)

    clock.set(datetime(2026, 10, 8, 22, 0, tzinfo=SHANGHAI))  # 26 hours before: nothing yet
    await drain(services)
    assert chase_events(services, case.id) == []

    clock.set(datetime(2026, 10, 9, 1, 0, tzinfo=SHANGHAI))  # 23 hours before: 催办
    await drain(services)
    await drain(services)
    assert chase_events(services, case.id) == [("deadline_reminder", 0)]
    (reminder,) = chased(sent, "龙小燕", "【催办】")
    assert "2026-10-10 00:00" in reminder

    clock.set(datetime(2026, 10, 10, 0, 30, tzinfo=SHANGHAI))  # overdue: 催办 again, 督办 to level 2
    await drain(services)
    assert chase_events(services, case.id)[1:] == [("deadline_due", 0), ("overdue", 2)]
    assert chased(sent, "龙小燕", "已到") and chased(sent, "侯霞", "【督办】")
    assert not chased(sent, "夏芳", "【督办】")

    clock.advance(hours=23)
    await drain(services)
    assert not chased(sent, "夏芳", "【督办】")
    clock.advance(hours=2)  # still open a day later: level 1
    await drain(services)
    await drain(services)
    assert chase_events(services, case.id)[-1] == ("overdue", 1)
    assert len(chased(sent, "夏芳", "【督办】")) == 1


@pytest.mark.parametrize("resolved", [True, False])
async def test_a_case_resolved_in_time_is_not_chased(scenario_services, drain, clock, resolved) -> None:
    services = scenario_services
    sent = record_all_channels(services)
    case = await acknowledged_water_outage(services, drain)
    if resolved:
        leader = staff_id(services, "LDR-ZY01-01-1")
        await act_on_case(services, case_id=case.id, staff_id=leader, action="resolve", channel="web")
    clock.set(as_utc(case.resolve_due_at) + timedelta(hours=1))
    await drain(services)
    if resolved:
        assert chase_events(services, case.id) == [] and not chased(sent, "侯霞", "【督办】")
    else:
        assert [kind for kind, _ in chase_events(services, case.id)] == ["deadline_due", "overdue"]
        assert chased(sent, "侯霞", "【督办】")


async def test_a_short_limit_is_not_chased_before_half_of_it_has_gone(services, drain, clock) -> None:
    sent = record_all_channels(services)
    text = "3号楼着火了！浓烟很大，快来人"  # an emergency: 4 hours
    msg = InboundMessage(channel="sms", external_id=LI_XIUYING, text=text, provider_message_id="D9")
    ref = (await handle_inbound(services, msg)).case_ref
    await drain(services)
    with services.db.session() as session:
        case = session.exec(select(Case).where(Case.ref == ref)).one()
    page = next(p for channel in sent.values() for p in channel.pages if p.case_id == case.id)
    await act_on_case(services, case_id=case.id, staff_id=page.staff_id, action="acknowledge", channel="web")
    clock.advance(hours=1, minutes=50)
    await drain(services)
    assert chase_events(services, case.id) == []
    clock.advance(minutes=20)  # past half of the four hours
    await drain(services)
    assert chase_events(services, case.id) == [("deadline_reminder", 0)]
