"""Everyone who reported the same problem hears about it: a resident whose report joined a neighbour's
open case (「已有 2 人反映」) is told when it is taken and asked "解决了吗？" when it is resolved —
once each, in their own language, on the channel they reported on — and finds it in their status."""

from __future__ import annotations

from sqlmodel import select

from gridline.core.conversation import handle_inbound
from gridline.kernel.messages import InboundMessage
from gridline.routing.actions import act_on_case
from gridline.storage.models import Case, Resident, Staff
from tests.core.support import RecordingNotifier, record_all_channels

LI_XIUYING = "+8617000010001"  # 桐柏路199号院3号楼 (ZY01-01-1), zh-CN
ZHAO_DEMING = "+8617000010002"  # 桐柏路199号院5号楼, the same grid; reads English in these stories
NEWCOMER = "8100000901"  # on Telegram, placed by the location of 桐柏路199号院
TONGBAI = (34.779163, 113.611855)


def sms(phone: str, text: str | None = None, sid: str = "", **more) -> InboundMessage:
    return InboundMessage(channel="sms", external_id=phone, text=text, provider_message_id=sid, **more)


def telegram(text: str | None = None, sid: str = "", **more) -> InboundMessage:
    return InboundMessage(channel="telegram", external_id=NEWCOMER, chat_id=NEWCOMER, text=text,
                          provider_message_id=sid, **more)  # fmt: skip


def staff_id(services, code: str) -> int:
    with services.db.session() as session:
        return session.exec(select(Staff.id).where(Staff.code == code)).one()


def reads_english(services, phone: str) -> None:
    with services.db.session() as session:
        resident = session.exec(select(Resident).where(Resident.phone == phone)).one()
        resident.lang = "en"
        session.add(resident)
        session.commit()


def to(notifier: RecordingNotifier, target: str, key: str) -> list:
    return [m for m in notifier.messages if m.target == target and m.key == key]


async def three_reports(services, drain) -> str:
    """李秀英 reports by SMS; 赵德明 (English, SMS) and a newcomer on Telegram report the same: one case."""
    reads_english(services, ZHAO_DEMING)
    ref = (await handle_inbound(services, sms(LI_XIUYING, "俺们楼从昨天就没水了咋弄", "J1"))).case_ref
    joined = await handle_inbound(services, sms(ZHAO_DEMING, "5号楼也停水了，一滴水都没有", "J2"))
    await handle_inbound(services, telegram(location=TONGBAI, sid="J3"))
    on_telegram = await handle_inbound(services, telegram("家里停水了，水龙头没有水", "J4"))
    await drain(services)
    assert ref and joined.joined_case and joined.case_ref == ref
    assert on_telegram.joined_case and on_telegram.case_ref == ref
    return ref



async def reported_three_times(services, drain) -> Case:  # type: ignore[no-untyped-def]
    """The case of :func:`three_reports`, loaded."""
    ref = await three_reports(services, drain)
    with services.db.session() as session:
        return session.exec(select(Case).where(Case.ref == ref)).one()

async def test_every_reporter_hears_once_that_the_case_is_taken_and_is_asked_if_it_is_solved(
    scenario_services, drain
) -> None:
    services = scenario_services
    sent = record_all_channels(services)
    case = await reported_three_times(services, drain)
    ref = case.ref
    leader = staff_id(services, "LDR-ZY01-01-1")

    assert (await act_on_case(services, case_id=case.id, staff_id=leader, action="acknowledge", channel="web")).ok
    await drain(services)
    for notifier, target in ((sent["sms"], LI_XIUYING), (sent["sms"], ZHAO_DEMING), (sent["telegram"], NEWCOMER)):
        assert len(to(notifier, target, "case.acknowledged")) == 1, target
    assert "接单" in to(sent["sms"], LI_XIUYING, "case.acknowledged")[0].text
    assert to(sent["sms"], ZHAO_DEMING, "case.acknowledged")[0].text.startswith(f"Case {ref} has been taken")
    assert not to(sent["telegram"], LI_XIUYING, "case.acknowledged"), "the channel she reported on"

    assert (await act_on_case(services, case_id=case.id, staff_id=leader, action="resolve", channel="web")).ok
    await drain(services)
    for notifier, target in ((sent["sms"], LI_XIUYING), (sent["sms"], ZHAO_DEMING), (sent["telegram"], NEWCOMER)):
        (asked,) = to(notifier, target, "case.resolved_ask")
        assert [o.data for o in asked.options] == [f"solved:{ref}:yes", f"solved:{ref}:no"]
    assert "really solved" in to(sent["sms"], ZHAO_DEMING, "case.resolved_ask")[0].text


async def test_a_neighbour_who_joined_says_it_is_not_solved_and_the_case_reopens(services, drain) -> None:
    sent = record_all_channels(services)
    case = await reported_three_times(services, drain)
    ref = case.ref
    leader = staff_id(services, "LDR-ZY01-01-1")
    await act_on_case(services, case_id=case.id, staff_id=leader, action="resolve", channel="web")
    await drain(services)

    await handle_inbound(services, sms(ZHAO_DEMING, choice=f"solved:{ref}:no", sid="J5"))
    await drain(services)
    with services.db.session() as session:
        assert session.get(Case, case.id).status == "paged"  # type: ignore[union-attr]
    assert len(to(sent["sms"], ZHAO_DEMING, "case.reopened")) == 1, "the one who said so is told"
    assert not to(sent["sms"], LI_XIUYING, "case.reopened")


async def test_a_neighbour_who_joined_says_it_is_solved_in_words_and_is_asked_for_the_rating(
    scenario_services, drain
) -> None:
    services = scenario_services
    sent = record_all_channels(services)
    case = await reported_three_times(services, drain)
    ref = case.ref
    await act_on_case(services, case_id=case.id, staff_id=staff_id(services, "LDR-ZY01-01-1"), action="resolve",
                      channel="web")  # fmt: skip
    await drain(services)

    await handle_inbound(services, telegram("解决了", "J6"))
    await drain(services)
    (rate,) = to(sent["telegram"], NEWCOMER, "case.rate_ask")
    assert rate.options[0].data == f"rate:{ref}:1"
    assert not to(sent["sms"], LI_XIUYING, "case.rate_ask")
    await handle_inbound(services, telegram(choice=f"rate:{ref}:5", sid="J7"))
    await drain(services)
    with services.db.session() as session:
        stored = session.get(Case, case.id)
        assert stored is not None and (stored.status, stored.rating) == ("closed", 5)


async def test_status_lists_the_case_a_resident_joined(scenario_services, drain) -> None:
    services = scenario_services
    record_all_channels(services)
    ref = await three_reports(services, drain)
    listing = await handle_inbound(services, sms(ZHAO_DEMING, command="status", sid="J8"), deliver_replies=False)
    assert ref in listing.replies[-1].text and "1 open case" in listing.replies[-1].text
    on_telegram = await handle_inbound(services, telegram(command="status", sid="J9"), deliver_replies=False)
    assert ref in on_telegram.replies[-1].text
    by_ref = await handle_inbound(services, sms(ZHAO_DEMING, command="status", command_args=ref, sid="J10"),
                                  deliver_replies=False)  # fmt: skip
    assert by_ref.replies[-1].text.startswith(f"Case {ref}"), by_ref.replies[-1].text
