"""Rows written by one Core INSERT (``storage.rows``) are what the model's constructor and a flush
wrote: the same defaults, an id, and the session's object, whose later changes are stored; a case's
reference another case has is drawn again instead of failing the transaction (``storage.cases.insert``)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import delete
from sqlalchemy.orm import persistence
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import select

from gridline.kernel.services import Services
from gridline.kernel.work import Work, in_transaction
from gridline.storage import case_events, cases, rows
from gridline.storage.models import Case, CaseEvent, Message
from gridline.storage.statements import StatementCounter


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
        event = case_events.add_event(
            work.session, second.id or 0, at=work.now, kind="created", actor="system", data={}
        )
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


async def test_changes_of_loaded_rows_are_written_by_one_update_without_the_orms_flush(
    scenario_services: Services, monkeypatch: pytest.MonkeyPatch
):
    services = scenario_services
    emitted: list[object] = []
    real_emit = persistence._emit_update_statements
    monkeypatch.setattr(persistence, "_emit_update_statements", lambda *a, **k: (emitted.append(a), real_emit(*a, **k)))

    def write(work: Work) -> int:
        case = cases.insert(work.session, _case_values(work), lambda: "DIRECT1")
        message = rows.insert_row(work.session, Message, {
            "direction": "in", "channel": "sms", "sender_kind": "resident", "text": "楼道灯坏了", "status": "received",
            "created_at": work.now})
        message.case_id = case.id
        case.status, case.explanation = "paged", [{"why": "测试", "n": 1}]
        case.priority = "normal"  # the value it had: not written
        return case.id or 0

    with StatementCounter(services.db.engine) as counted:
        case_id = await in_transaction(services, write)
    updates = [s for s in counted.statements if s.lstrip().upper().startswith("UPDATE")]
    # The changed columns only (the priority was set to the value it had), one UPDATE a row.
    assert sorted(s.split(" WHERE ")[0].replace("::VARCHAR", "").replace("::JSON", "") for s in updates) == [
        "UPDATE cases SET status=%(status)s, explanation=%(explanation)s"
        if "%(" in updates[0] else "UPDATE cases SET status=?, explanation=?",
        "UPDATE messages SET case_id=%(case_id)s::INTEGER" if "%(" in updates[0] else "UPDATE messages SET case_id=?",
    ]
    assert emitted == []  # not the unit of work's UPDATE
    with services.db.session() as session:
        case = session.get(Case, case_id)
        assert case is not None and case.status == "paged" and case.explanation == [{"why": "测试", "n": 1}]
        message = session.exec(select(Message).where(Message.case_id == case_id)).one()
        assert message.text == "楼道灯坏了"


async def test_a_changed_row_that_is_gone_fails_the_flush(scenario_services: Services):
    services = scenario_services

    def write(work: Work) -> None:
        case = cases.insert(work.session, _case_values(work), lambda: "GONE1")
        events, table = CaseEvent.__table__, Case.__table__  # type: ignore[attr-defined]
        work.session.execute(delete(events).where(events.c.case_id == case.id))  # Core: the session keeps the case
        work.session.execute(delete(table).where(table.c.id == case.id))
        case.status = "paged"
        work.session.flush()

    with pytest.raises(StaleDataError):
        await in_transaction(services, write)


def test_a_model_with_a_column_filled_at_update_is_not_written_directly() -> None:
    from sqlalchemy import DateTime, Integer, func
    from sqlalchemy.orm import DeclarativeBase, mapped_column

    from gridline.storage.rows import update_directly

    class Base(DeclarativeBase):  # its own metadata: nothing joins Gridline's tables
        pass

    class Stamped(Base):
        __tablename__ = "stamped_probe"
        id = mapped_column(Integer, primary_key=True)
        changed_at = mapped_column(DateTime, onupdate=func.now())

    with pytest.raises(ValueError, match="changed_at"):
        update_directly(Stamped)
