"""A team member who passed a case on (转交) cannot take it back, escalate it or speak for it from
their old page; the colleague it went to can, and so can the grid's leader, whose role lets them act
on every case of the grid. Paged again later (the case came back to them), they may act again."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from gridline.core.conversation import handle_inbound
from gridline.i18n.phrases import render
from gridline.kernel.messages import InboundMessage
from gridline.routing.actions import act_on_case
from gridline.routing.staff_words import relay_staff_reply
from gridline.storage.models import Case, Staff
from tests.core.support import record_all_channels

LI_XIUYING = "+8617000010001"  # demo resident at 桐柏路199号院, grid ZY01-01-1


def staff_id(services, code: str) -> int:
    with services.db.session() as session:
        return session.exec(select(Staff.id).where(Staff.code == code)).one()


async def night_case(services, drain, clock) -> int:
    """Thursday 22:00: 姚晓燕 (member) is on duty in ZY01-01-1 and is paged."""
    clock.advance(hours=12)
    outcome = await handle_inbound(services, InboundMessage(channel="sms", external_id=LI_XIUYING,
                                                            text="楼道的灯坏了", provider_message_id="SMnight"))
    await drain(services)
    with services.db.session() as session:
        return session.exec(select(Case.id).where(Case.ref == outcome.case_ref)).one()


async def test_whoever_passed_a_case_on_cannot_take_it_back_from_their_old_page(scenario_services, drain, clock):
    services = scenario_services
    record_all_channels(services)
    case_id = await night_case(services, drain, clock)
    yao, chen = staff_id(services, "MBR-ZY01-01-1"), staff_id(services, "MBR2-ZY01-01-1")

    passed = await act_on_case(services, case_id=case_id, staff_id=yao, action="reassign", channel="web",
                               to_staff_id=chen)
    assert passed.ok and passed.code == "reassigned"
    await drain(services)
    clock.advance(minutes=1)

    for action in ("acknowledge", "escalate", "resolve"):
        refused = await act_on_case(services, case_id=case_id, staff_id=yao, action=action, channel="web")
        assert (refused.ok, refused.code) == (False, "passed_on"), action
        assert render(refused.said, "zh-CN") == f"工单 {refused.case_ref} 您已转交给陈勇，由对方处理。"
    assert not await relay_staff_reply(services, case_id, yao, "我来处理", "sms")

    taken = await act_on_case(services, case_id=case_id, staff_id=chen, action="acknowledge", channel="web")
    assert taken.ok
    with services.db.session() as session:
        case = session.get(Case, case_id)
        assert case.status == "acknowledged" and case.acknowledged_by == chen


async def test_the_grid_leader_may_still_act_on_a_case_they_passed_on(scenario_services, drain, clock):
    services = scenario_services
    record_all_channels(services)
    case_id = await night_case(services, drain, clock)
    yao, leader = staff_id(services, "MBR-ZY01-01-1"), staff_id(services, "LDR-ZY01-01-1")
    assert (await act_on_case(services, case_id=case_id, staff_id=yao, action="reassign", channel="web",
                              to_staff_id=leader)).ok
    await drain(services)
    assert (await act_on_case(services, case_id=case_id, staff_id=leader, action="reassign", channel="web",
                              to_staff_id=yao)).ok
    await drain(services)
    clock.advance(timedelta(minutes=1))
    # Passed back to 姚晓燕 (a new page): hers again. The leader, who passed it on, keeps the leader's right.
    assert (await act_on_case(services, case_id=case_id, staff_id=yao, action="acknowledge", channel="web")).ok
    assert (await act_on_case(services, case_id=case_id, staff_id=leader, action="resolve", channel="web")).ok
