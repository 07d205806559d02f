"""The corrections queue (conversations with low NLU confidence) shows the least confident first."""

from __future__ import annotations

import re

from sqlmodel import select

from gridline.nlu.corrections import record_correction
from gridline.storage.models import Message
from tests.console.factories import CaseFactory


def conversation_of(factory: CaseFactory, case_id: int) -> int:
    with factory.services.db.session() as session:
        ids = session.exec(select(Message.conversation_id).where(Message.case_id == case_id)).all()
    return next(i for i in ids if i is not None)


async def test_the_least_confident_conversation_comes_first(client_for, factory: CaseFactory) -> None:
    confidences = {"路灯有点暗": 0.40, "那个东西又坏了": 0.10, "楼下有点情况": 0.30, "停水了": 0.95}
    cases = {text: factory.case(grid="GX01-01-1", text=text, confidence=c) for text, c in confidences.items()}
    expected = [conversation_of(factory, cases[t].id) for t in ("那个东西又坏了", "楼下有点情况", "路灯有点暗")]
    admin = await client_for("admin")
    html = (await admin.get("/console/conversations", params={"lowconf": "1"})).text
    listed = [int(i) for i in dict.fromkeys(re.findall(r'href="/console/conversations/(\d+)"', html))]
    assert listed == expected  # 0.10, 0.30, 0.40; the confident one is not in the queue
    everything = (await admin.get("/console/conversations")).text
    newest = [int(i) for i in dict.fromkeys(re.findall(r'href="/console/conversations/(\d+)"', everything))]
    assert newest[0] == conversation_of(factory, cases["停水了"].id)  # without the filter: newest first


async def test_a_corrected_message_leaves_the_queue(client_for, factory: CaseFactory) -> None:
    """Once a supervisor has corrected it, the least confident message no longer heads the queue:
    the next least confident uncorrected ones do, and a conversation with nothing left to correct goes."""
    confidences = {"那个东西又坏了": 0.10, "楼下有点情况": 0.30, "路灯有点暗": 0.40}
    cases = {text: factory.case(grid="GX01-01-1", text=text, confidence=c) for text, c in confidences.items()}
    services = factory.services
    with services.db.session() as session:
        unsure = session.exec(
            select(Message.id).where(Message.case_id == cases["那个东西又坏了"].id, Message.direction == "in")
        ).one()
    assert unsure is not None
    record_correction(services, unsure, "road_facility", "console:admin")

    admin = await client_for("admin")
    html = (await admin.get("/console/conversations", params={"lowconf": "1"})).text
    listed = [int(i) for i in dict.fromkeys(re.findall(r'href="/console/conversations/(\d+)"', html))]
    assert listed == [conversation_of(factory, cases[t].id) for t in ("楼下有点情况", "路灯有点暗")]
