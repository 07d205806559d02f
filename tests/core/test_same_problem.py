"""A report joins an open case only when it is the same problem: the same category at the same place
(``routing.case_places``). An outage reaches every building of a compound (3号楼 and 5号楼 without
water are one case); anything else is where it is — the leak in 3号楼's stairwell that 李秀英 reports
with a car blocking the door (「楼道里漏水，还有车堵门」) is not 赵德明's bare wire at 5号楼, even when
the model gives both the same category, and 3号楼's lift is not 5号楼's."""

from __future__ import annotations

import pytest
from sqlmodel import select

from gridline.core.conversation import handle_inbound
from gridline.kernel.messages import InboundMessage
from gridline.routing.case_places import place_of, same_place
from gridline.routing.cases import CaseDraft, find_duplicate
from gridline.storage.models import Case

LI_XIUYING = "+8617000010001"  # 桐柏路199号院3号楼2单元401 (ZY01-01-1)
ZHAO_DEMING = "+8617000010002"  # 桐柏路199号院5号楼1单元102, the same grid


def sms(phone: str, text: str, sid: str) -> InboundMessage:
    return InboundMessage(channel="sms", external_id=phone, text=text, provider_message_id=sid)


@pytest.mark.parametrize(
    ("category", "here", "there", "same"),
    [
        ("elevator", "桐柏路199号院3号楼2单元401", "桐柏路199号院3号楼1单元101", True),  # one building
        ("elevator", "桐柏路199号院3号楼2单元401", "桐柏路199号院5号楼1单元102", False),
        ("safety_hazard", "桐柏路199号院3#楼", "郑州市金水区桐柏路199号院三号楼", True),  # ways to write it
        ("safety_hazard", "桐柏路199号院3号楼2单元401", "颍河路56号院2号楼301", False),  # another compound
        ("safety_hazard", "桐柏路199号院", "桐柏路199号院5号楼1单元102", True),  # the compound only
        ("water_supply", "桐柏路199号院3号楼2单元401", "桐柏路199号院5号楼1单元102", True),  # an outage
        ("noise", None, "桐柏路199号院5号楼1单元102", True),  # known by its grid only
    ],
)
def test_same_place(category: str, here: str | None, there: str, same: bool) -> None:
    assert same_place(category, here, there) is same, (place_of(here), place_of(there))


def draft(category: str, address: str, resident_id: int) -> CaseDraft:
    return CaseDraft(category=category, priority="normal", grid_code="ZY01-01-1", summary="…", channel="sms",
                     resident_id=resident_id, address_text=address)  # fmt: skip


async def test_a_case_of_the_same_category_elsewhere_in_the_grid_is_not_joined(services) -> None:
    """A report filed as safety_hazard at 3号楼; a bare wire at 5号楼 read as safety_hazard too is a
    new case — and a second report at 3号楼 joins the first, not the newer one."""
    first = await handle_inbound(services, sms(LI_XIUYING, "楼道里电线裸露，还有车堵门", "P1"))
    with services.db.session() as session:
        leak = session.exec(select(Case).where(Case.ref == first.case_ref)).one()
        assert leak.category == "safety_hazard", "the premise: not an outage, which joins anywhere in the grid"
        at_five = draft(leak.category, "桐柏路199号院5号楼1单元102", 0)
        assert find_duplicate(session, services.settings, at_five, leak.created_at) is None
        elsewhere = Case(ref="WIRE05", category=leak.category, priority="normal", status="paged", channel="sms",
                         grid_code="ZY01-01-1", summary="小区门口电线裸露", address_text=at_five.address_text,
                         created_at=leak.created_at, updated_at=leak.created_at)  # fmt: skip
        session.add(elsewhere)
        session.commit()
        at_three = draft(leak.category, "桐柏路199号院3号楼1单元101", 0)
        assert find_duplicate(session, services.settings, at_three, leak.created_at).ref == leak.ref  # type: ignore[union-attr]


async def test_a_lift_in_another_building_is_another_case(services) -> None:
    three = await handle_inbound(services, sms(LI_XIUYING, "电梯又坏了，停在楼上不动了", "L1"))
    five = await handle_inbound(services, sms(ZHAO_DEMING, "电梯坏了好几天了，没人来修", "L2"))
    with services.db.session() as session:
        categories = {c.ref: c.category for c in session.exec(select(Case))}
    assert categories[three.case_ref] == "elevator", "the premise: the model reads both as the lift"
    assert five.created_case and not five.joined_case and five.case_ref != three.case_ref, categories


async def test_an_outage_in_another_building_joins_the_case(services) -> None:
    first = await handle_inbound(services, sms(LI_XIUYING, "俺们楼从昨天就没水了咋弄", "W1"))
    joined = await handle_inbound(services, sms(ZHAO_DEMING, "5号楼也停水了，一滴水都没有", "W2"))
    assert joined.joined_case and joined.case_ref == first.case_ref
