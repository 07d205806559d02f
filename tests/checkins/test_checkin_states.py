"""The check-in state machine: every move not in the table is refused, and ``transition`` is the one
place that writes a check-in's status (stamping its time and recording the event)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlmodel import select

from gridline.domain.lifecycle import ForbiddenTransition
from gridline.kernel.work import in_transaction
from gridline.routing.checkin_states import STAMPS, TRANSITIONS, CheckInStatus, check_transition, transition
from gridline.storage.models import CheckIn, CheckInEvent, Household

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("current", list(CheckInStatus))
@pytest.mark.parametrize("wanted", list(CheckInStatus))
def test_checkin_transitions_follow_the_table(current: CheckInStatus, wanted: CheckInStatus) -> None:
    if wanted in TRANSITIONS[current]:
        assert check_transition(current, wanted) == wanted
    else:
        with pytest.raises(ForbiddenTransition):
            check_transition(current, wanted)


def test_answered_and_cancelled_check_ins_are_final() -> None:
    for final in (CheckInStatus.OK, CheckInStatus.HELP, CheckInStatus.CANCELLED):
        assert TRANSITIONS[final] == frozenset()
    with pytest.raises(ForbiddenTransition):
        check_transition("ok", "asked")
    with pytest.raises(ValueError):
        check_transition("asked", "maybe")


def _new_checkin(work) -> int:
    household = work.session.exec(select(Household)).first()
    row = CheckIn(
        kind="daily",
        household_id=household.id,
        grid_code=household.grid_code,
        channel="sms",
        cycle="2026-01-01",
        status="scheduled",
        due_at=work.now,
        created_at=work.now,
        updated_at=work.now,
    )
    work.session.add(row)
    work.session.flush()
    return row.id


async def test_transition_stamps_records_and_refuses_without_writing(services) -> None:
    checkin_id = await in_transaction(services, _new_checkin)

    def move(work, wanted):
        row = work.session.get(CheckIn, checkin_id)
        transition(work, row, wanted, actor="test")
        return row.status

    assert await in_transaction(services, move, CheckInStatus.ASKED) == "asked"
    assert await in_transaction(services, move, CheckInStatus.OK) == "ok"
    with pytest.raises(ForbiddenTransition):
        await in_transaction(services, move, CheckInStatus.RETRIED)
    with services.db.session() as session:
        row = session.get(CheckIn, checkin_id)
        assert row.status == "ok" and row.asked_at is not None and row.answered_at is not None
        kinds = [e.kind for e in session.exec(select(CheckInEvent).where(CheckInEvent.checkin_id == checkin_id))]
    assert kinds == ["asked", "ok"]
    assert set(STAMPS) <= set(CheckInStatus)


def test_nothing_but_transition_writes_a_check_in_status() -> None:
    writes = re.compile(r"\b(checkin|question|previous|waiting)\.status\s*=[^=]")
    offenders = [
        f"{path.relative_to(ROOT)}:{n}"
        for path in (ROOT / "gridline").rglob("*.py")
        if path.name != "checkin_states.py"
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if writes.search(line)
    ]
    assert offenders == []
