"""Closure the resident confirms: "resolved" is the holder's word; the resident's answer decides."""

from __future__ import annotations

from sqlmodel import select

from gridline.bots.page_text import page_texts
from gridline.core.conversation import handle_inbound
from gridline.kernel.messages import InboundMessage
from gridline.routing.actions import act_on_case
from gridline.storage.models import Case, CaseEvent, Staff
from tests.core.support import record_all_channels

LI_XIUYING = "+8617000010001"


def sms(text: str, sid: str) -> InboundMessage:
    return InboundMessage(channel="sms", external_id=LI_XIUYING, text=text, provider_message_id=sid)


def staff_id(services, code: str) -> int:
    with services.db.session() as session:
        return session.exec(select(Staff.id).where(Staff.code == code)).one()


async def resolved_case(services, drain) -> Case:
    outcome = await handle_inbound(services, sms("俺们楼从昨天就没水了咋弄", "C1"))
    await drain(services)
    leader = staff_id(services, "LDR-ZY01-01-1")
    with services.db.session() as session:
        case = session.exec(select(Case).where(Case.ref == outcome.case_ref)).one()
    result = await act_on_case(services, case_id=case.id, staff_id=leader, action="resolve", channel="web")
    assert result.ok
    await drain(services)
    return case


async def test_the_same_problem_in_words_reopens_it_with_those_words_to_level_two(scenario_services, drain) -> None:
    services = scenario_services
    sent = record_all_channels(services)
    case = await resolved_case(services, drain)
    asked = [m for m in sent["sms"].messages if "解决了吗" in m.text]
    assert asked and [o.data for o in asked[-1].options] == [f"solved:{case.ref}:yes", f"solved:{case.ref}:no"]

    words = "没有，楼上楼下还是没水"
    outcome = await handle_inbound(services, sms(words, "C2"))
    assert outcome.case_ref is None or outcome.case_ref == case.ref  # no second case
    await drain(services)
    to_level2 = [p for p in sent["web"].pages if p.staff_name == "侯霞"]
    assert to_level2 and words in page_texts(to_level2[-1]).full and "未解决" in page_texts(to_level2[-1]).full
    with services.db.session() as session:
        stored = session.get(Case, case.id)
        assert stored is not None and stored.status == "paged"
        kinds = [e.kind for e in session.exec(select(CaseEvent).where(CaseEvent.case_id == case.id))]
        assert session.exec(select(Case)).all()[-1].id == case.id
    assert kinds[-1] == "reopened_by_resident"


async def test_no_in_words_reopens_then_yes_after_the_second_resolution_asks_for_the_rating(services, drain) -> None:
    sent = record_all_channels(services)
    case = await resolved_case(services, drain)
    await handle_inbound(services, sms("没有解决", "C3"))  # deny → reopened …
    await drain(services)
    with services.db.session() as session:
        assert session.get(Case, case.id).status == "paged"  # type: ignore[union-attr]
    leader2 = staff_id(services, "L2-ZY01-01")
    await act_on_case(services, case_id=case.id, staff_id=leader2, action="resolve", channel="web")
    await drain(services)
    yes = InboundMessage(
        channel="sms", external_id=LI_XIUYING, choice=f"solved:{case.ref}:yes", provider_message_id="C4"
    )
    await handle_inbound(services, yes)
    await drain(services)
    assert any("★" in o.text(m.lang) for m in sent["sms"].messages for o in m.options)
    with services.db.session() as session:
        kinds = [e.kind for e in session.exec(select(CaseEvent).where(CaseEvent.case_id == case.id))]
    assert kinds.count("resolved") == 2 and kinds[-1] == "resident_confirmed"


def follow_ups(services) -> list:
    from gridline.storage.models import FollowUp

    with services.db.session() as session:
        return list(session.exec(select(FollowUp)))


async def test_no_answer_gets_one_reminder_then_a_follow_up_call_task(scenario_services, drain, clock) -> None:
    services = scenario_services
    sent = record_all_channels(services)
    case = await resolved_case(services, drain)
    clock.advance(hours=23)
    await drain(services)
    assert not [m for m in sent["sms"].messages if "打扰了" in m.text]  # not yet
    clock.advance(hours=2)
    await drain(services)
    reminders = [m for m in sent["sms"].messages if "打扰了" in m.text]
    assert len(reminders) == 1 and [o.data for o in reminders[0].options][-1] == f"solved:{case.ref}:no"
    assert follow_ups(services) == []
    clock.advance(hours=25)
    await drain(services)
    await drain(services)  # a second pass changes nothing
    (task,) = follow_ups(services)
    assert (task.case_id, task.reason, task.outcome) == (case.id, "no_answer", None)
    assert staff_id(services, "LDR-ZY01-01-1") in task.handled_by  # the one who resolved it may not call
    assert len([m for m in sent["sms"].messages if "打扰了" in m.text]) == 1


async def test_an_answer_after_the_reminder_means_no_follow_up(services, drain, clock) -> None:
    record_all_channels(services)
    case = await resolved_case(services, drain)
    clock.advance(hours=25)
    await drain(services)
    await handle_inbound(services, InboundMessage(
        channel="sms", external_id=LI_XIUYING, choice=f"solved:{case.ref}:yes", provider_message_id="C9"))
    clock.advance(hours=25)
    await drain(services)
    assert follow_ups(services) == []


async def test_a_low_rating_asks_for_a_follow_up_call(services, drain) -> None:
    record_all_channels(services)
    case = await resolved_case(services, drain)
    await handle_inbound(services, sms("1", "C5"))  # solved
    await drain(services)
    await handle_inbound(services, sms("2", "C6"))  # two stars
    (task,) = follow_ups(services)
    assert (task.case_id, task.reason) == (case.id, "low_rating")


async def test_plain_typed_answers_the_nlu_misreads_still_answer_the_question(services, drain) -> None:
    """解决了，谢谢 (the NLU reads thanks) confirms the fix and asks for the rating."""
    sent = record_all_channels(services)
    case = await resolved_case(services, drain)
    await handle_inbound(services, sms("解决了，谢谢！", "P1"))
    await drain(services)
    with services.db.session() as session:
        kinds = [e.kind for e in session.exec(select(CaseEvent).where(CaseEvent.case_id == case.id))]
    assert kinds[-1] == "resident_confirmed"
    assert any("★" in o.text("zh-CN") for o in sent["sms"].messages[-1].options)


async def test_a_plain_not_yet_the_nlu_reads_as_a_greeting_reopens(services, drain) -> None:
    other = await resolved_case(services, drain)
    await handle_inbound(services, sms("还没好", "P2"))
    await drain(services)
    with services.db.session() as session:
        kinds = [e.kind for e in session.exec(select(CaseEvent).where(CaseEvent.case_id == other.id))]
        assert session.get(Case, other.id).status == "paged"  # type: ignore[union-attr]
    assert kinds[-1] == "reopened_by_resident"


async def test_thanks_with_no_question_pending_is_small_talk(services) -> None:
    outcome = await handle_inbound(services, sms("解决了，谢谢", "P3"), deliver_replies=False)
    assert outcome.case_ref is None and "不客气" in outcome.replies[-1].text


async def test_a_bare_solved_the_nlu_reads_as_check_status_still_answers_the_question(services, drain) -> None:
    """A plain 解决了 — listed as a yes in docs/deadlines.md — is read by the embedded model as
    check_status (0.79) and was answered 「您目前没有未办结的工单」 with the question left open."""
    sent = record_all_channels(services)
    case = await resolved_case(services, drain)
    await handle_inbound(services, sms("解决了", "P4"))
    await drain(services)
    with services.db.session() as session:
        kinds = [e.kind for e in session.exec(select(CaseEvent).where(CaseEvent.case_id == case.id))]
    assert kinds[-1] == "resident_confirmed"
    assert "没有未办结" not in sent["sms"].messages[-1].text
    assert any("★" in o.text("zh-CN") for o in sent["sms"].messages[-1].options)
