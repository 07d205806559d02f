"""The unit of work runs its body in a database thread, in one transaction, and queues jobs after commit."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
from sqlalchemy import text
from sqlmodel import select

from gridline.kernel.services import Services
from gridline.kernel.work import Work, in_transaction, replayable
from gridline.storage.models import AuditLog
from gridline.storage.statements import StatementCounter


def _write_note(work: Work, note: str, fail: bool = False) -> int:
    entry = AuditLog(at=work.now, actor="system", action="test.note", detail={"note": note})
    work.session.add(entry)
    work.session.flush()
    work.job("process_inbound", f"inbound:test:{note}", None, event_id=-1)
    if fail:
        raise RuntimeError("the body failed after writing")
    assert entry.id is not None
    return entry.id


def _notes(services: Services) -> list[str]:
    with services.db.session() as session:
        return [row.detail["note"] for row in session.exec(select(AuditLog).where(AuditLog.action == "test.note"))]


async def test_body_runs_off_the_event_loop_thread(services: Services) -> None:
    loop_thread = threading.get_ident()
    seen = await in_transaction(services, lambda work: threading.get_ident())
    assert seen != loop_thread


async def test_a_committed_body_returns_its_result_and_queues_its_jobs(services: Services) -> None:
    entry_id = await in_transaction(services, _write_note, "kept")
    assert entry_id > 0
    assert _notes(services) == ["kept"]
    assert services.jobs.pending() == 1  # type: ignore[attr-defined]


async def test_a_failed_body_rolls_back_and_queues_nothing(services: Services) -> None:
    with pytest.raises(RuntimeError):
        await in_transaction(services, _write_note, "lost", fail=True)
    assert _notes(services) == []
    assert services.jobs.pending() == 0  # type: ignore[attr-defined]


async def test_the_loop_keeps_running_while_a_body_blocks(services: Services) -> None:
    ticks: list[int] = []
    blocked = threading.Event()

    async def ticker() -> None:
        while True:
            if blocked.is_set():
                ticks.append(1)
            await asyncio.sleep(0.01)

    def slow(work: Work) -> None:
        blocked.set()
        time.sleep(0.3)  # a lock wait or a slow query
        blocked.clear()

    task = asyncio.create_task(ticker())
    await in_transaction(services, slow)
    task.cancel()
    assert ticks, "the event loop did not run while the unit of work was blocked"


@pytest.mark.postgres
async def test_on_postgresql_a_bodys_jobs_commit_and_roll_back_with_its_rows(make_services) -> None:
    services = await make_services("postgres")
    assert services.jobs.transactional
    await in_transaction(services, _write_note, "kept")
    assert services.jobs.pending() == 1  # type: ignore[attr-defined]
    with pytest.raises(RuntimeError):
        await in_transaction(services, _write_note, "lost", fail=True)
    assert _notes(services) == ["kept"]
    assert services.jobs.pending() == 1, "the rolled-back body's job went with it"  # type: ignore[attr-defined]
    await in_transaction(services, _write_note, "kept")
    assert services.jobs.pending() == 1, "one waiting job per key"  # type: ignore[attr-defined]


@replayable
def _relaxed_note(work: Work, note: str, fail: bool = False) -> str:
    _write_note(work, note, fail)
    return str(work.session.execute(text("SELECT current_setting('synchronous_commit')")).scalar())


async def test_on_postgresql_a_replayable_body_commits_relaxed_without_a_round_trip_of_its_own(
    make_services, monkeypatch: pytest.MonkeyPatch
) -> None:
    import psycopg

    services = await make_services("postgres")
    sent: list[str] = []
    execute = psycopg.Connection.execute

    def noting(self, query, *args, **kwargs):  # type: ignore[no-untyped-def]
        sent.append(str(query))
        return execute(self, query, *args, **kwargs)

    monkeypatch.setattr(psycopg.Connection, "execute", noting)
    with StatementCounter(services.db.engine) as counted:
        # The setting travels with the COMMIT, so inside the body it still reads "on".
        assert await in_transaction(services, _relaxed_note, "relaxed") == "on"
    assert not any("SET LOCAL" in s for s in counted.statements), "no statement of its own"
    assert sent == ["SET LOCAL synchronous_commit TO off; COMMIT"]
    assert "relaxed" in _notes(services)
    with pytest.raises(RuntimeError):
        await in_transaction(services, _relaxed_note, "lost", fail=True)
    assert "lost" not in _notes(services)

    def setting(work: Work) -> str:  # the next transactions of every pooled connection are durable again
        return str(work.session.execute(text("SELECT current_setting('synchronous_commit')")).scalar())

    assert {await in_transaction(services, setting) for _ in range(4)} == {"on"}


async def test_a_finish_rolled_back_with_its_unit_of_work_is_left_to_the_next_one(services: Services) -> None:
    from gridline.kernel.work import finish_inbound_with, processing_inbound

    finished: list[int] = []

    def finish(session, event_id, now):  # type: ignore[no-untyped-def]
        finished.append(event_id)

    def stores(work: Work, fail: bool) -> None:
        finish_inbound_with(work)
        if fail:
            raise RuntimeError("rolled back")

    with processing_inbound(7, finish) as flight:
        with pytest.raises(RuntimeError):
            await in_transaction(services, stores, True)
        assert flight.work is None and not flight.finished
        await in_transaction(services, stores, False)
        assert flight.finished
        await in_transaction(services, stores, False)  # the first unit of work that stored only
    assert finished == [7, 7]  # once rolled back, once committed
    await in_transaction(services, stores, False)  # outside processing: nothing to finish
    assert finished == [7, 7]
