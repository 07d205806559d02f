"""Escalation timing with a fake clock: steps, repeats, emergency fan-out, ack stops everything,
duplicates join, and nothing is dropped when nobody is on duty."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from gridline.core.conversation import handle_inbound
from gridline.kernel.messages import InboundMessage
from gridline.kernel.notify import Delivery
from gridline.routing.actions import act_on_case
from gridline.routing.provider_status import record_provider_status
from gridline.storage.models import Case, CaseEvent, DutyShift, Page, Staff
from tests.core.support import record_all_channels

LI = "+8617000010001"  # 桐柏路199号院 → ZY01-01-1
ZHAO = "+8617000010002"  # same compound


def sms(text: str, sender: str = LI) -> InboundMessage:
    return InboundMessage(channel="sms", external_id=sender, text=text)


def pages(services) -> list[Page]:
    with services.db.session() as session:
        return list(session.exec(select(Page).order_by(Page.id)))


def case_by_ref(services, ref: str) -> Case:
    with services.db.session() as session:
        return session.exec(select(Case).where(Case.ref == ref)).one()


def staff_id(services, code: str) -> int:
    with services.db.session() as session:
        return session.exec(select(Staff.id).where(Staff.code == code)).one()


async def test_normal_policy_waits_fifteen_minutes_between_steps(services, drain, clock):
    record_all_channels(services)
    await handle_inbound(services, sms("小区门口的路灯不亮了"))
    await drain(services)
    assert [p.reason for p in pages(services)] == ["on_duty_leader"]
    clock.advance(minutes=14)
    await drain(services)
    assert len(pages(services)) == 1  # not yet
    clock.advance(minutes=1)
    await drain(services)
    assert [p.reason for p in pages(services)] == ["on_duty_leader", "backup"]


async def test_policy_repeats_then_stops(services, drain, clock):
    sent = record_all_channels(services)
    outcome = await handle_inbound(services, sms("小区门口的路灯不亮了"))
    for _ in range(40):
        clock.advance(minutes=15)
        await drain(services)
    steps = [(p.round, p.step_index) for p in pages(services)]
    # normal: 4 steps, repeat=1 → two rounds; each step notifies at least one person
    assert {s for s in steps} >= {(0, 0), (0, 1), (0, 2), (0, 3), (1, 0), (1, 3)}
    assert max(r for r, _ in steps) == 1
    with services.db.session() as session:
        kinds = [
            e.kind
            for e in session.exec(
                select(CaseEvent).where(CaseEvent.case_id == case_by_ref(services, outcome.case_ref).id)
            )
        ]
    assert kinds.count("escalation_exhausted") == 1
    # The second time round, the same people are told nobody has taken it yet, not paged as if anew.
    worded = [(n.page_id, n.repeat) for channel in sent.values() for n in channel.pages]
    rounds = {p.id: p.round for p in pages(services)}
    assert worded and all(repeat == rounds[page_id] for page_id, repeat in worded)
    assert {repeat for _, repeat in worded} == {0, 1}


async def test_emergency_notifies_several_people_at_once(services, drain):
    sent = record_all_channels(services)
    outcome = await handle_inbound(services, sms("3号楼着火了！浓烟很大，快来人"))
    assert outcome.replies[0].text.startswith("⚠️")  # 119/120/110 advice comes first
    await drain(services)
    first_step = [p for p in pages(services) if p.step_index == 0]
    assert {p.reason for p in first_step} >= {"on_duty_leader", "backup", "level2_contact"}
    assert len({p.staff_id for p in first_step}) >= 3
    assert case_by_ref(services, outcome.case_ref).priority == "emergency"
    assert sum(len(n.pages) for n in sent.values()) == len(first_step)


async def test_acknowledgement_stops_every_later_step(services, drain, clock):
    record_all_channels(services)
    outcome = await handle_inbound(services, sms("3号楼着火了！浓烟很大，快来人"))
    await drain(services)
    first = pages(services)[0]
    result = await act_on_case(
        services, case_id=first.case_id, staff_id=first.staff_id, action="acknowledge", channel="sms", page_id=first.id
    )
    assert result.ok
    await drain(services)
    before = len(pages(services))
    for _ in range(10):
        clock.advance(minutes=10)
        await drain(services)
    assert len(pages(services)) == before
    statuses = {p.status for p in pages(services) if p.id != first.id}
    assert statuses <= {"expired"}
    assert case_by_ref(services, outcome.case_ref).status == "acknowledged"


async def test_second_report_joins_the_open_case_without_paging_again(services, drain):
    record_all_channels(services)
    first = await handle_inbound(services, sms("俺们楼停水了，一滴水都没有"))
    await drain(services)
    second = await handle_inbound(services, sms("桐柏路199号院没水了咋回事", sender=ZHAO))
    await drain(services)
    assert second.joined_case and second.case_ref == first.case_ref
    assert "2" in second.replies[-1].text
    assert len(pages(services)) == 1
    assert case_by_ref(services, first.case_ref).report_count == 2


async def test_nobody_on_duty_goes_to_triage_and_supervisors(services, drain):
    record_all_channels(services)
    with services.db.session() as session:
        for shift in session.exec(select(DutyShift).where(DutyShift.grid_code == "ZY01-01-1")):
            session.delete(shift)
    outcome = await handle_inbound(services, sms("楼下垃圾好几天没人清运了，臭得很"))
    await drain(services)
    case = case_by_ref(services, outcome.case_ref)
    assert case.status == "triage"
    with services.db.session() as session:
        roles = {session.get(Staff, p.staff_id).role for p in pages(services)}
    assert roles == {"supervisor"}


async def test_unknown_resident_report_is_kept_in_triage_then_rerouted_by_address(services, drain):
    record_all_channels(services)
    stranger = "+8613800000000"
    outcome = await handle_inbound(services, sms("楼道里的灯坏了好几天了晚上很黑", sender=stranger))
    assert outcome.created_case
    assert case_by_ref(services, outcome.case_ref).grid_code is None
    await drain(services)
    follow_up = await handle_inbound(services, sms("颍河路56号院", sender=stranger))
    await drain(services)
    case = case_by_ref(services, outcome.case_ref)
    assert case.grid_code == "ZY01-01-2"
    assert follow_up.case_ref == outcome.case_ref
    assert any(p.reason == "on_duty_leader" for p in pages(services))


async def test_a_report_nobody_can_place_waits_for_the_address_before_paging_supervisors(services, drain, clock):
    record_all_channels(services)
    stranger = "+8613800000000"
    outcome = await handle_inbound(services, sms("楼下垃圾好几天没人清运了，臭得很", sender=stranger))
    await drain(services)
    assert pages(services) == []  # the resident was just asked where
    clock.advance(minutes=services.settings.cases.address_wait_minutes - 1)
    await handle_inbound(services, sms("颍河路56号院", sender=stranger))
    await drain(services)
    assert [p.reason for p in pages(services)] == ["on_duty_leader"]  # no supervisor was disturbed
    assert case_by_ref(services, outcome.case_ref).grid_code == "ZY01-01-2"


async def test_an_emergency_nobody_can_place_pages_the_supervisors_at_once(services, drain):
    record_all_channels(services)
    outcome = await handle_inbound(services, sms("楼道里着火了，好多烟", sender="+8613800000000"))
    # 「我们也已同时通知网格长」 would promise a leader nobody knows yet: the duty staff were alerted.
    assert outcome.replies[0].key == "emergency.advice_unplaced"
    placed = await handle_inbound(services, sms("楼道里着火了，好多烟"))
    assert placed.replies[0].key == "emergency.advice"
    await drain(services)
    with services.db.session() as session:
        assert "supervisor" in {session.get(Staff, p.staff_id).role for p in pages(services)}


async def test_rerouting_a_triage_case_withdraws_the_supervisors_pages_and_keeps_the_address(services, drain, clock):
    notifiers = record_all_channels(services)
    stranger = "+8613800000000"
    outcome = await handle_inbound(services, sms("楼下垃圾好几天没人清运了，臭得很", sender=stranger))
    clock.advance(minutes=services.settings.cases.address_wait_minutes)  # no answer: the supervisors place it
    await drain(services)
    triage = pages(services)
    with services.db.session() as session:
        assert {session.get(Staff, p.staff_id).role for p in triage} == {"supervisor"}
    await handle_inbound(services, sms("颍河路56号院", sender=stranger))
    await drain(services)
    by_id = {p.id: p for p in pages(services)}
    # The supervisors were paged only because nobody knew where it was: now the grid has it.
    assert {by_id[p.id].status for p in triage} == {"expired"}
    withdrawn = {u.page_id: u for n in notifiers.values() for u in n.updates}
    assert set(withdrawn) == {p.id for p in triage}
    assert all(u.note.key == "page.note_rerouted" for u in withdrawn.values())
    assert any(p.reason == "on_duty_leader" and p.status != "expired" for p in by_id.values())
    case = case_by_ref(services, outcome.case_ref)
    assert case.address_text and "颍河路56号院" in case.address_text  # the leader sees where to go


async def test_a_triage_page_does_not_name_a_grid_it_does_not_have(services, drain, clock):
    record_all_channels(services)
    outcome = await handle_inbound(services, sms("楼下垃圾好几天没人清运了，臭得很", sender="+8613800000000"))
    clock.advance(minutes=services.settings.cases.address_wait_minutes)
    await drain(services)
    paged = [e for e in case_by_ref(services, outcome.case_ref).explanation if e.get("decision") == "paged"]
    assert paged and all(p["why"]["code"] == "supervisor_triage" for p in paged[0]["people"])


async def test_low_confidence_asks_the_resident_then_pages_with_the_choice(services, drain, clock):
    record_all_channels(services)
    outcome = await handle_inbound(services, sms("那个事情你们管不管啊到底"))
    if not outcome.replies or not outcome.replies[-1].options:
        return  # the classifier was sure; nothing to choose
    options = outcome.replies[-1].options
    assert options[-1].data.endswith(":other")
    await drain(services)
    assert pages(services) == []  # waiting for the resident's choice
    await handle_inbound(services, sms("1"))
    await drain(services)
    assert len(pages(services)) == 1
    assert case_by_ref(services, outcome.case_ref).category == options[0].data.split(":")[2]


async def test_unanswered_choice_still_pages_after_the_timeout(services, drain, clock):
    record_all_channels(services)
    outcome = await handle_inbound(services, sms("那个事情你们管不管啊到底"))
    if not outcome.replies[-1].options:
        return
    clock.advance(minutes=services.settings.cases.choice_timeout_minutes)
    await drain(services)
    assert len(pages(services)) == 1


async def test_blocked_channel_falls_back_to_the_next_one(services, drain):
    sent = record_all_channels(services)
    sent["web"].script.append(Delivery("failed", error="blocked", unreachable=True))
    await handle_inbound(services, sms("小区门口的路灯不亮了"))
    await drain(services)
    channels = [p.channel for p in pages(services)]
    assert channels == ["web", "telegram"]  # 龙小燕: web | telegram | sms | voice
    assert [p.status for p in pages(services)] == ["failed", "sent"]


async def test_temporary_failure_is_retried_with_backoff(services, drain, clock):
    sent = record_all_channels(services)
    sent["web"].script.append(Delivery("retry", retry_after=30, error="429"))
    await handle_inbound(services, sms("小区门口的路灯不亮了"))
    await drain(services)
    assert len(sent["web"].pages) == 1
    clock.advance(seconds=29)
    await drain(services)
    assert len(sent["web"].pages) == 1
    clock.advance(seconds=2)
    await drain(services)
    assert len(sent["web"].pages) == 2
    assert pages(services)[0].status == "sent"


async def test_old_provider_status_never_overwrites_a_newer_one(services, drain):
    record_all_channels(services)
    await handle_inbound(services, sms("小区门口的路灯不亮了"))
    await drain(services)
    page = pages(services)[0]
    assert await record_provider_status(services, page.provider_message_id, "delivered", 3) == "delivered"
    assert await record_provider_status(services, page.provider_message_id, "sent", 2) == "stale"
    assert pages(services)[0].status == "delivered"


async def test_a_staff_member_who_was_not_paged_cannot_acknowledge(services, drain):
    record_all_channels(services)
    await handle_inbound(services, sms("小区门口的路灯不亮了"))
    await drain(services)
    page = pages(services)[0]
    outsider = staff_id(services, "LDR-GX01-01-1")  # a leader of another grid
    result = await act_on_case(services, case_id=page.case_id, staff_id=outsider, action="acknowledge", channel="web")
    assert not result.ok and result.code == "not_allowed"
    chain = staff_id(services, "L2-ZY01-01") if _exists(services, "L2-ZY01-01") else None
    if chain is not None:
        result = await act_on_case(services, case_id=page.case_id, staff_id=chain, action="acknowledge", channel="web")
        assert result.ok


def _exists(services, code: str) -> bool:
    with services.db.session() as session:
        return session.exec(select(Staff.id).where(Staff.code == code)).first() is not None


async def test_resolve_asks_if_solved_then_for_a_rating_which_closes_the_case(services, drain):
    sent = record_all_channels(services)
    outcome = await handle_inbound(services, sms("小区门口的路灯不亮了"))
    await drain(services)
    page = pages(services)[0]
    await act_on_case(services, case_id=page.case_id, staff_id=page.staff_id, action="resolve", channel="web")
    await drain(services)
    asked = sent["sms"].messages[-1]  # "resolved" is the leader's word: is it really solved?
    assert [o.data.rsplit(":", 1)[-1] for o in asked.options] == ["yes", "no"]
    await handle_inbound(services, sms("1"))  # yes
    await drain(services)
    rating_prompt = sent["sms"].messages[-1]
    assert len(rating_prompt.options) == 5
    reply = await handle_inbound(services, sms("5"))
    assert "谢谢" in reply.replies[0].text
    case = case_by_ref(services, outcome.case_ref)
    assert case.status == "closed" and case.rating == 5


async def test_escalate_now_pages_the_next_step_immediately(services, drain):
    record_all_channels(services)
    await handle_inbound(services, sms("小区门口的路灯不亮了"))
    await drain(services)
    page = pages(services)[0]
    result = await act_on_case(services, case_id=page.case_id, staff_id=page.staff_id, action="escalate", channel="web")
    assert result.ok
    await drain(services)
    assert [p.reason for p in pages(services)][:2] == ["on_duty_leader", "backup"]
    assert timedelta(0) == pages(services)[1].created_at - pages(services)[0].created_at


async def test_a_flood_from_one_sender_is_stored_but_not_answered(services, drain):
    record_all_channels(services)
    services.settings.cases.max_messages_per_minute = 3
    outcomes = [await handle_inbound(services, sms(f"你好{i}")) for i in range(5)]
    assert [bool(o.replies) for o in outcomes] == [True, True, True, False, False]
    with services.db.session() as session:
        from gridline.storage.models import Message

        stored = session.exec(select(Message).where(Message.direction == "in")).all()
    assert len(stored) == 5  # nothing a resident sends is dropped


async def test_odd_input_gets_an_answer_never_an_exception(services, drain):
    record_all_channels(services)
    for text in ["", "😀😀😀", "\x00\x07\x1b[31m", "1234567890", "x" * 10_000, "my water is out 没水了"]:
        outcome = await handle_inbound(services, sms(text, sender="+8613900000001"))
        assert outcome.message_id is not None
    await drain(services)


async def test_a_page_that_cannot_be_rendered_fails_over_instead_of_retrying_forever(services, drain):
    record_all_channels(services)
    outcome = await handle_inbound(services, sms("小区门口的路灯不亮了"))
    with services.db.session() as session:
        case = session.exec(select(Case).where(Case.ref == outcome.case_ref)).one()
        case.category = "no_such_category"  # no text in the catalogue for it
    await drain(services)
    attempts = pages(services)
    assert attempts and {p.status for p in attempts} == {"failed"}
    assert len({p.channel for p in attempts}) == len(attempts)  # each channel tried once, then given up
    assert all("render" in (p.error or "") for p in attempts)


async def test_an_edit_the_provider_asks_to_delay_is_made_later(services, drain, clock):
    sent = record_all_channels(services)
    sent["web"].update_script.append(Delivery("retry", retry_after=20))
    await handle_inbound(services, sms("小区门口的路灯不亮了"))
    await drain(services)
    page = pages(services)[0]
    await act_on_case(services, case_id=page.case_id, staff_id=page.staff_id, action="acknowledge", channel="web")
    await drain(services)
    assert len(sent["web"].updates) == 1  # asked to wait
    clock.advance(seconds=25)
    await drain(services)
    assert len(sent["web"].updates) == 2
    assert sent["web"].updates[0] == sent["web"].updates[1]  # the same edit again
