"""One sender Gridline cannot place opens one triage case, however many reports they send in a row."""

from __future__ import annotations

from sqlmodel import select

from gridline.core.conversation import handle_inbound
from gridline.kernel.messages import InboundMessage
from gridline.storage.models import Case, Page
from tests.core.support import record_all_channels

REPORTS = ["路灯坏了", "楼道里有人吵架", "水管漏水了", "电梯不动了", "有人乱扔垃圾",
           "下水道堵了", "噪音太大", "小区门口坑洼", "楼上漏水", "停电了"]  # fmt: skip


async def test_ten_reports_from_an_unplaced_telegram_user_make_one_triage_case(scenario_services, drain, clock) -> None:
    services = scenario_services
    record_all_channels(services)
    outcomes = []
    for i, text in enumerate(REPORTS):
        msg = InboundMessage(channel="telegram", external_id="9100000001", bot_name="city", text=text,
                             provider_message_id=f"u{i}", display_name="陌生人")  # fmt: skip
        outcomes.append(await handle_inbound(services, msg))
        await drain(services)
    clock.advance(minutes=services.settings.cases.address_wait_minutes)  # no address came: triage pages
    await drain(services)
    with services.db.session() as session:
        triage = session.exec(select(Case).where(Case.grid_code == None)).all()  # noqa: E711
        pages = session.exec(select(Page)).all()
    refs = {o.case_ref for o in outcomes if o.case_ref}
    assert len(triage) == 1 and len(refs) == 1, [c.summary for c in triage]
    assert {p.case_id for p in pages} == {triage[0].id}  # the supervisors are paged about one case, not ten
