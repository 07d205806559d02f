"""「楼道里漏水，还有车堵门」 is a leak and a car blocking the door: two cases, each the category its
clause reads as — the clauses classified before the transaction, with the message (no network
inside it), and only when the model is sure of each (core.conversation.several)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import col, select

from gridline.core.conversation import dialogue, handle_inbound
from gridline.kernel.messages import InboundMessage
from gridline.kernel.services import Services
from gridline.nlu.types import IntentScore, NluResult
from gridline.storage.models import Case, CaseEvent

LI_XIUYING = "+8617000010001"  # 桐柏路199号院3号楼2单元401 (ZY01-01-1)


class ScriptedNlu:
    """Reads each text as the script says, and fails if asked inside a transaction."""

    def __init__(self, script: dict[str, tuple[str, float]]) -> None:
        self.script, self.asked, self.in_transaction = script, [], False

    async def parse(self, text: str) -> NluResult:
        assert not self.in_transaction, f"NLU asked inside the transaction: {text!r}"
        self.asked.append(text)
        intent, confidence = self.script.get(text, ("nlu_fallback", 0.0))
        return NluResult(text=text, intent=intent, confidence=confidence,
                         ranking=[IntentScore(intent, confidence)])  # fmt: skip


@pytest.fixture
def scripted(services: Services, monkeypatch: pytest.MonkeyPatch) -> ScriptedNlu:
    nlu = ScriptedNlu({"楼道里漏水，还有车堵门": ("safety_hazard", 0.5), "楼道里漏水": ("water_supply", 0.77),
                       "车堵门": ("public_order", 0.6), "楼道里漏水，还有个事": ("water_supply", 0.7)})  # fmt: skip
    monkeypatch.setattr(services, "nlu", nlu)
    converse = dialogue._converse

    def watched(*args: Any) -> Any:
        nlu.in_transaction = True
        try:
            return converse(*args)
        finally:
            nlu.in_transaction = False

    monkeypatch.setattr(dialogue, "_converse", watched)
    return nlu


def cases(services: Services) -> list[Case]:
    with services.db.session() as session:
        return list(session.exec(select(Case).order_by(col(Case.id))))


async def test_a_leak_and_a_car_blocking_the_door_are_two_cases(services: Services, scripted: ScriptedNlu) -> None:
    msg = InboundMessage(channel="sms", external_id=LI_XIUYING, text="楼道里漏水，还有车堵门", provider_message_id="S1")
    outcome = await handle_inbound(services, msg)

    assert sorted(scripted.asked) == sorted(["楼道里漏水，还有车堵门", "楼道里漏水", "车堵门"])
    leak, car = cases(services)
    assert [(c.category, c.summary) for c in (leak, car)] == [
        ("water_supply", "楼道里漏水"),
        ("public_order", "车堵门"),
    ]
    assert leak.address_text == car.address_text, "both where the resident lives"
    assert outcome.case_ref == leak.ref
    (answer,) = outcome.replies
    assert answer.key == "case.filed_several" and answer.params["count"] == 2
    with services.db.session() as session:
        together = session.exec(select(CaseEvent).where(CaseEvent.kind == "filed_together")
                                .order_by(col(CaseEvent.case_id))).all()  # fmt: skip
    assert [(e.case_id, e.data["with"], e.data.get("text")) for e in together] == [
        (leak.id, [car.ref], None), (car.id, [leak.ref], "楼道里漏水，还有车堵门"),
    ]  # fmt: skip


async def test_a_clause_that_is_no_sure_problem_leaves_one_case(services: Services, scripted: ScriptedNlu) -> None:
    msg = InboundMessage(channel="sms", external_id=LI_XIUYING, text="楼道里漏水，还有个事", provider_message_id="S2")
    await handle_inbound(services, msg)
    (case,) = cases(services)
    assert (case.category, case.summary) == ("water_supply", "楼道里漏水，还有个事")


async def test_words_with_no_join_are_asked_once(services: Services, scripted: ScriptedNlu) -> None:
    await handle_inbound(services, InboundMessage(channel="sms", external_id=LI_XIUYING, text="楼道里漏水",
                                                  provider_message_id="S3"))  # fmt: skip
    assert scripted.asked == ["楼道里漏水"]
