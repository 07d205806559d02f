"""A job a job queues for now runs in the same task (``kernel.work.RUN_HERE``), yet it is queued with
its row all the same, so a crash between the commit and the run leaves it to a worker after the grace;
once its first unit of work committed, its queued copy leaves the queue — in a statement sent anyway
(the next job INSERT) or one DELETE soon after — never in a statement of its own per job."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text

from gridline.engine.jobs import Engine
from gridline.kernel.services import Services
from gridline.kernel.work import RUN_HERE_GRACE_SECONDS, Work, in_transaction
from gridline.storage.statements import StatementCounter

pytestmark = pytest.mark.postgres


def _queued(services: Services) -> dict[str, tuple[str, Any]]:
    """The waiting jobs, by key: (status, scheduled_at)."""
    with services.db.engine.connect() as connection:
        rows = connection.execute(text("SELECT queueing_lock, status, scheduled_at FROM procrastinate_jobs")).all()
    return {key: (status, at) for key, status, at in rows}


def _job_statements(counter: StatementCounter) -> list[str]:
    return [s for s in counter.statements if "procrastinate_jobs" in s]


class Chain:
    """A root job (not run here) that queues a reply (run here), which queues a page (run here)."""

    def __init__(self, services: Services, *, reply_fails_first: bool = False) -> None:
        self.services = services
        self.ran: list[str] = []
        self.reply_fails_first = reply_fails_first
        services.engine = Engine(services, {"process_inbound": self.root, "deliver_message": self.reply,
                                            "deliver_page": self.page})

    async def root(self, services: Services, event_id: int) -> None:
        def body(work: Work) -> None:
            work.job("deliver_message", f"msg:{event_id}:0", message_id=event_id)

        self.ran.append("root")
        await in_transaction(services, body)

    async def reply(self, services: Services, message_id: int) -> None:
        if self.reply_fails_first and "reply-failed" not in self.ran:
            self.ran.append("reply-failed")  # the process "crashed" before the job's unit of work
            raise RuntimeError("gone before its first unit of work")

        def body(work: Work) -> None:
            work.job("deliver_page", f"page:{message_id}:0", page_id=message_id)

        self.ran.append("reply")
        await in_transaction(services, body)

    async def page(self, services: Services, page_id: int) -> None:
        self.ran.append("page")
        await in_transaction(services, lambda work: None)  # its claim: nothing queued


async def test_a_job_that_never_ran_here_is_left_queued_for_a_worker_after_the_grace(make_services, clock) -> None:
    services = await make_services("postgres")
    chain = Chain(services, reply_fails_first=True)
    await services.handlers.run("process_inbound", {"event_id": 1})
    assert chain.ran == ["root", "reply-failed"]
    status, at = _queued(services)["msg:1:0"]
    assert status == "todo" and at == clock.now() + timedelta(seconds=RUN_HERE_GRACE_SECONDS)
    assert await services.jobs.run_due(services.handlers) == 0, "not before the grace"
    clock.advance(seconds=RUN_HERE_GRACE_SECONDS + 1)
    await services.jobs.run_due(services.handlers)
    assert chain.ran == ["root", "reply-failed", "reply", "page"], "the worker's run runs its page here too"
    await services.jobs.flush_unstaged()  # type: ignore[attr-defined]
    assert _queued(services) == {}, "each job ran once; the copies of the jobs run here are gone"


async def test_the_copies_of_jobs_run_here_go_without_a_delete_per_job(make_services) -> None:
    services = await make_services("postgres")
    chain = Chain(services)
    with StatementCounter(services.db.engine) as counted:
        await services.handlers.run("process_inbound", {"event_id": 2})
    assert chain.ran == ["root", "reply", "page"]
    statements = _job_statements(counted)
    # The root's INSERT; the reply's INSERT of the page's job, which deletes the reply's copy too.
    assert len(statements) == 2, statements
    assert statements[1].startswith("WITH unstaged AS (DELETE") and "INSERT" in statements[1]
    assert set(_queued(services)) == {"page:2:0"}, "the page's copy waits for a later statement"

    # The next job INSERT of this process takes it along: no statement of its own.
    def another(work: Work) -> None:
        work.job("run_transfer_timer", "transfer:9", work.now + timedelta(hours=1), transfer_id=9)

    with StatementCounter(services.db.engine) as counted:
        await in_transaction(services, another)
    [insert] = _job_statements(counted)
    assert insert.startswith("WITH unstaged AS (DELETE")
    assert set(_queued(services)) == {"transfer:9"}


async def test_with_no_later_insert_the_copies_go_within_a_second_in_one_statement(make_services) -> None:
    services = await make_services("postgres")
    Chain(services)
    with StatementCounter(services.db.engine) as counted:
        await services.handlers.run("process_inbound", {"event_id": 3})
        for _ in range(100):  # the queue's timer deletes it (UNSTAGE_FLUSH_SECONDS); no timing asserted
            if "page:3:0" not in _queued(services):
                break
            await asyncio.sleep(0.1)
    assert _queued(services) == {}
    deletes = [s for s in _job_statements(counted) if s.startswith("DELETE")]
    assert len(deletes) == 1, deletes


async def test_a_statement_that_fails_gives_the_copies_back_for_a_later_one(make_services) -> None:
    services = await make_services("postgres")
    Chain(services)
    await services.handlers.run("process_inbound", {"event_id": 4})
    assert set(_queued(services)) == {"page:4:0"}

    def unserialisable(work: Work) -> None:
        work.job("run_transfer_timer", "transfer:10", None, transfer_id=object())

    with pytest.raises(TypeError):
        await in_transaction(services, unserialisable)
    await services.jobs.flush_unstaged()  # type: ignore[attr-defined]
    assert _queued(services) == {}, "given back to the list, then deleted"


async def test_only_a_job_due_now_wakes_the_workers(make_services, clock) -> None:
    """procrastinate's insert trigger NOTIFYs only for a job due within a second (migration 0016):
    a job due later — the copy of a job run here, a step minutes away — is found by the poll."""
    import psycopg

    from gridline.storage.pg_job_app import conninfo

    services = await make_services("postgres")
    with psycopg.connect(conninfo(services.db), autocommit=True) as listener:
        listener.execute("LISTEN procrastinate_any_queue_v1")

        def queue(work: Work, key: str, due_in: timedelta | None) -> None:
            at = None if due_in is None else work.now + due_in
            work.job("run_transfer_timer", key, at, transfer_id=1)

        def woken() -> set[str]:
            ids = {int(json.loads(n.payload)["job_id"]) for n in listener.notifies(timeout=0.5)}
            with services.db.engine.connect() as connection:
                rows = connection.execute(text("SELECT id, queueing_lock FROM procrastinate_jobs")).all()
            return {key for job_id, key in rows if job_id in ids}

        # The test clock is not the database's: due times relative to the database's now.
        with services.db.engine.connect() as connection:
            clock_skew = clock.now() - connection.execute(text("SELECT now()")).scalar()
        await in_transaction(services, queue, "now", None)
        await in_transaction(services, queue, "later", timedelta(seconds=RUN_HERE_GRACE_SECONDS) - clock_skew)
        await in_transaction(services, queue, "due", timedelta(0) - clock_skew)
        assert woken() == {"now", "due"}
