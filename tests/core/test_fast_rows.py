"""Rows written by one Core INSERT (``storage.rows``) are what the model's constructor and a flush
wrote: the same defaults, an id, and the session's object, whose later changes are stored; a case's
reference another case has is drawn again instead of failing the transaction (``storage.cases.insert``)."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from gridline.kernel.services import Services
from gridline.kernel.work import Work, in_transaction
from gridline.storage import cases, rows
from gridline.storage.models import Case, CaseEvent, Message


def _case_values(work: Work) -> dict[str, object]:
    return {"category": "water", "priority": "normal", "status": "new", "channel": "sms", "summary": "没水了",
            "created_at": work.now, "updated_at": work.now}


async def test_an_inserted_row_has_the_constructors_defaults_and_its_changes_are_stored(scenario_services: Services):
    services = scenario_services
    given = {"direction": "in", "channel": "sms", "sender_kind": "resident", "text": "楼道灯坏了", "status": "received"}

    def write(work: Work) -> tuple[int, dict[str, object]]:
        message = rows.insert_row(work.session, Message, {**given, "created_at": work.now})
        assert message.id is not None
        assert work.session.get(Message, message.id) is message  # the session's own object
        expected = Message(**given, created_at=work.now).model_dump(exclude={"id"})
        message.intent = "lighting"  # changed after the INSERT: an UPDATE at the commit
        expected["intent"] = "lighting"
        return message.id, expected

    message_id, expected = await in_transaction(services, write)
    with services.db.session() as session:
        stored = session.exec(select(Message).where(Message.id == message_id)).one()
        assert stored.model_dump(exclude={"id"}) == expected


async def test_a_taken_case_reference_is_drawn_again(scenario_services: Services):
    services = scenario_services
    drawn: list[str] = []

    def draw(refs: list[str]):
        queue = iter(refs)

        def new_ref() -> str:
            drawn.append(next(queue))
            return drawn[-1]
        return new_ref

    def write(work: Work) -> tuple[str, str]:
        first = cases.insert(work.session, _case_values(work), draw(["TAKEN2"]))
        second = cases.insert(work.session, {**_case_values(work), "updated_at": work.now + timedelta(seconds=1)},
                              draw(["TAKEN2", "TAKEN2", "FRESH3"]))
        event = cases.add_event(work.session, second.id or 0, at=work.now, kind="created", actor="system", data={})
        assert event.id is not None and second.id != first.id
        return first.ref, second.ref

    refs = await in_transaction(services, write)
    assert refs == ("TAKEN2", "FRESH3")
    assert drawn == ["TAKEN2", "TAKEN2", "TAKEN2", "FRESH3"]
    with services.db.session() as session:
        stored = {c.ref: c for c in session.exec(select(Case).where(Case.ref.in_(["TAKEN2", "FRESH3"])))}  # type: ignore[attr-defined]
        assert set(stored) == {"TAKEN2", "FRESH3"}
        assert stored["FRESH3"].report_count == 1 and stored["FRESH3"].explanation == []
        events = session.exec(select(CaseEvent).where(CaseEvent.case_id == stored["FRESH3"].id)).all()
        assert [e.kind for e in events] == ["created"]
