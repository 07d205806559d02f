"""What the conversation does with the NLU's answer: greetings and small talk, and the threshold."""

from __future__ import annotations

from gridline.core.conversation import handle_inbound
from gridline.i18n import t
from gridline.kernel.messages import InboundMessage

LI_XIUYING = "+8617000010001"  # demo resident at 桐柏路199号院, registered in grid ZY01-01-1


def sms(text: str) -> InboundMessage:
    return InboundMessage(channel="sms", external_id=LI_XIUYING, text=text)


async def test_greetings_are_answered_as_greetings_and_file_nothing(services) -> None:
    for text, answer in (("你们好", "greet"), ("在吗", "greet"), ("谢谢", "thanks")):
        outcome = await handle_inbound(services, sms(text))
        assert not outcome.created_case, text
        assert outcome.replies[0].text == t(f"conversation.{answer}", "zh-CN"), text


async def test_small_talk_gets_a_friendly_answer_not_not_understood(services) -> None:
    outcome = await handle_inbound(services, sms("你是机器人吗"))
    assert not outcome.created_case
    assert outcome.replies[0].text == t("conversation.smalltalk", "zh-CN")
    assert outcome.replies[0].text != t("conversation.not_understood", "zh-CN")


async def test_a_report_under_the_threshold_asks_the_resident_to_choose(make_services) -> None:
    # Threshold 1.0: no answer is sure enough, so the resident is offered the likeliest categories.
    services = await make_services(nlu={"confidence_threshold": 1.0})
    outcome = await handle_inbound(services, sms("桐柏路199号院从昨天就停水了"))
    assert outcome.created_case
    choose = [r for r in outcome.replies if r.text == t("case.choose_category", "zh-CN", ref=outcome.case_ref)]
    assert choose and len(choose[0].options) >= 2


async def test_a_report_over_the_threshold_is_filed_without_asking(make_services) -> None:
    services = await make_services(nlu={"confidence_threshold": 0.45})
    assert (await services.nlu.parse("桐柏路199号院从昨天就停水了")).confidence >= 0.45
    outcome = await handle_inbound(services, sms("桐柏路199号院从昨天就停水了"))
    assert outcome.created_case
    assert all(not r.options for r in outcome.replies)


class ReadsEverythingAsAStatusQuestion:
    """An engine that takes every message for 「我的工单怎么样了」 — as a weak model might a danger."""

    name = "status-reader"

    def __init__(self, engine) -> None:
        self._engine = engine

    async def parse(self, text: str):
        from dataclasses import replace

        from gridline.nlu.types import IntentScore

        real = await self._engine.parse(text)
        return replace(real, intent="check_status", confidence=0.9, ranking=[IntentScore("check_status", 0.9)])

    def __getattr__(self, name: str):
        return getattr(self._engine, name)


async def test_a_danger_the_model_takes_for_a_question_is_still_an_emergency_case(services) -> None:
    services.nlu = ReadsEverythingAsAStatusQuestion(services.nlu)

    outcome = await handle_inbound(services, sms("楼下有人晕倒了，叫不醒"))

    assert outcome.created_case
    with services.db.session() as session:
        from gridline.storage import cases

        case = cases.by_ref(session, outcome.case_ref or "")
    assert case is not None and case.priority == "emergency" and case.category == "emergency"
    assert case.explanation[0]["code"] == "danger_in_words"
    assert "open case" not in " ".join(r.text for r in outcome.replies)
