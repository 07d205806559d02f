"""A unit of work: one database transaction plus the jobs and events it causes.

``in_transaction(services, body, *args)`` is the door to the database: ``body(work, *args)`` is
plain blocking code that runs in one of the database's worker threads (never on the event loop),
inside one transaction. It must not touch the network — classify with the NLU before, talk to Redis
and providers after. On PostgreSQL the body's jobs are inserted in its own transaction, just before
the commit (a committed row always has its job); on SQLite they are queued right after the commit.
Events are published after the commit. Either way a worker never picks up a row that is not there
yet, and a rolled-back change never pages anyone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Iterator
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

from sqlmodel import Session

from gridline.storage.db import relax_commit

if TYPE_CHECKING:
    from gridline.kernel.services import Services
    from gridline.settings import Settings

log = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])


def replayable(body: F) -> F:
    """Mark a unit of work whose commit need not wait for the disk (PostgreSQL: ``synchronous_commit
    = off`` for its transaction; SQLite already commits without an fsync in WAL mode).

    Only for bodies whose effects stay inside the database and are redone from durable rows if a
    database crash forgets the last fraction of a second of commits: claiming or finishing a stored
    event (it is processed again, and the "already handled?" check makes that a no-op), running an
    escalation step (its claim lapses and the step runs again). Nothing leaves Gridline on the
    strength of such a commit: every send first claims its row in a normal, durable transaction,
    and that commit flushes everything committed before it. A webhook's store is never one of these.
    """
    body.replayable = True  # type: ignore[attr-defined]
    return body


# Jobs that a job may run itself, right after the unit of work that queued them commits, when they
# are due at once (``run_here``): the chain of a report — its first escalation step, the step's
# pages, the reply to the resident — then runs in the task that processed the message instead of
# going back to the queue for each hop (on PostgreSQL each hop was a serial fetch by the worker, two
# round trips, and a finish: the worker's fetch loop, not its database threads, bounded how many
# reports a second it processed). The job is still queued with its row, in the same transaction, so
# a crash between the commit and the run leaves it to a worker as before. Once the job's own first
# transaction committed, its queued copy is deleted: by that transaction's job INSERT when it queues
# jobs (one statement for both), else by the process's next job INSERT or a DELETE within a second
# (``JobQueue.unstage_later``: three DELETEs a report were one statement each, now they ride in
# statements sent anyway). If it runs both here and there, the row's claim makes the second a no-op.
RUN_HERE = frozenset({"run_escalation_step", "deliver_page", "deliver_message"})
# How long a worker leaves such a job to the task that queued it (PostgreSQL: its ``scheduled_at``),
# so that a worker woken by the insert does not take it in the moment before that task does; after
# a crash it is run by a worker this much later than at once.
RUN_HERE_GRACE_SECONDS = 5.0

_run_here: ContextVar[bool] = ContextVar("gridline_run_here", default=False)
# The settings of the job running (``running_a_job``): a send claimed in one of its units of work
# is made after that commit (``Work.claimed``).
_job_settings: ContextVar[Settings | None] = ContextVar("gridline_job_settings", default=None)
# The queued copy of the job running here: taken by its first unit of work (see ``RUN_HERE``).
_unstage: ContextVar[list[str] | None] = ContextVar("gridline_unstage", default=None)


@contextmanager
def running_a_job(settings: Settings | None = None) -> Iterator[None]:
    """While a job runs (``Engine.run``): the jobs its units of work queue for now run here too."""
    token = _run_here.set(True)
    settings_token = _job_settings.set(settings)
    try:
        yield
    finally:
        _job_settings.reset(settings_token)
        _run_here.reset(token)


def sends_here() -> Settings | None:
    """Inside a job (whose jobs for now run in this task after the commit, ``RUN_HERE``): the
    settings to claim a page or a reply with in the unit of work that creates it
    (``Work.claim_send``); None elsewhere (its delivery job claims it)."""
    return _job_settings.get() if _run_here.get() else None


@dataclass
class ClaimedSend:
    """A page or message claimed (``sending``) by the unit of work that created it: ``send`` makes
    it after the commit, as its delivery job would after its own claim; ``release`` gives it back
    (waiting again, not interrupted: nothing went out) when the task stops before sending it."""

    send: Callable[[Services], Awaitable[Any]]
    release: Callable[[Work], Any]


@dataclass
class Work:
    session: Session
    now: datetime
    jobs: list[tuple[str, str, datetime | None, dict[str, Any]]] = field(default_factory=list)
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    # Jobs this task runs itself after the commit (``RUN_HERE``), in the order they were queued.
    here: list[tuple[str, str, datetime | None, dict[str, Any]]] = field(default_factory=list)
    # Its job INSERT was sent (with the DELETE of the queued copy of the job it is the first unit
    # of work of), and the keys of other jobs run here that it deleted too (back if it rolls back).
    staged: bool = False
    took: list[str] = field(default_factory=list)
    # Sends claimed in this transaction, by their delivery job's key (``claim_send``): made after the
    # commit in place of that job (which is queued all the same, for a crash before the send).
    claimed: dict[str, ClaimedSend] = field(default_factory=dict)

    def claim_send(self, key: str, claimed: ClaimedSend) -> None:
        """The delivery job ``key`` (queued in this unit of work, due now) was claimed here."""
        self.claimed[key] = claimed

    def job(self, name: str, key: str, run_at: datetime | None = None, **kwargs: Any) -> None:
        self.jobs.append((name, key, run_at, kwargs))

    def event(self, topic: str, data: dict[str, Any]) -> None:
        self.events.append((topic, data))


@dataclass
class InboundInFlight:
    """A stored inbound event being processed (``core.inbox.process_inbound``): the unit of work
    that stores its message finishes the event in the same transaction (:func:`finish_inbound_with`),
    instead of a transaction of its own after the processor returns."""

    event_id: int
    finish: Callable[[Session, int, datetime], None]
    work: Work | None = None  # the unit of work that finished it …
    finished: bool = False  # … and it committed


_in_flight: ContextVar[InboundInFlight | None] = ContextVar("gridline_inbound_in_flight", default=None)


@contextmanager
def processing_inbound(event_id: int, finish: Callable[[Session, int, datetime], None]) -> Iterator[InboundInFlight]:
    """While the processor of ``event_id`` runs (in this task and the database threads it calls)."""
    flight = InboundInFlight(event_id, finish)
    token = _in_flight.set(flight)
    try:
        yield flight
    finally:
        _in_flight.reset(token)


def finish_inbound_with(work: Work) -> None:
    """``work`` stores the message of the event being processed, once and for good (it has the
    provider's message id, so processing the event again would find it already received and do
    nothing more): finish the event in the same transaction. The first such unit of work only."""
    flight = _in_flight.get()
    if flight is None or flight.work is not None:
        return
    flight.finish(work.session, flight.event_id, work.now)
    flight.work = work


def _committed(work: Work | None, *, rolled_back: Work | None = None) -> None:
    """After a unit of work committed (``work``) or rolled back (``rolled_back``)."""
    flight = _in_flight.get()
    if flight is None or flight.finished:
        return
    if work is not None and flight.work is work:
        flight.finished = True
    elif rolled_back is not None and flight.work is rolled_back:
        flight.work = None  # the finish rolled back with it: a later unit of work may finish the event


async def in_transaction(
    services: Services, body: Callable[Concatenate[Work, P], T], *args: P.args, **kwargs: P.kwargs
) -> T:
    """Run ``body(work, *args, **kwargs)`` in one transaction in a database thread; return its result."""

    made: list[Work] = []
    unstage = _unstage.get()
    done_here: list[str] = []
    if unstage:  # the first unit of work of a job run here: its queued copy goes after it (``RUN_HERE``)
        done_here, unstage[:] = list(unstage), []

    def run() -> tuple[T, Work]:
        with services.db.session() as session:
            if relaxed:
                relax_commit(session)
            work = Work(session=session, now=services.clock.now())
            made.append(work)
            result = body(work, *args, **kwargs)
            stage_jobs(services, work, done_here)
        return result, work

    relaxed = getattr(body, "replayable", False) and not services.db.is_sqlite
    try:
        result, work = await services.db.run(run)
    except BaseException:
        _committed(None, rolled_back=made[0] if made else None)
        if made:
            services.jobs.unstage_later(made[0].took)
        raise
    _committed(work)
    if done_here and not work.staged:
        services.jobs.unstage_later(done_here)
    await after_commit(services, work)
    return result


def stage_jobs(services: Services, work: Work, unstage: Collection[str] = ()) -> None:
    """Insert the body's jobs in its own transaction when the queue lives in the database.

    Inside a job, the jobs of :data:`RUN_HERE` due now are kept to run in this task after the
    commit (``work.here``): on PostgreSQL they are inserted all the same (due a grace period later,
    for a worker to run should this task not get to them); the in-process scheduler does not get
    them at all (its queue is this process's memory: a crash loses them either way, and the
    reconciler finds their rows). ``unstage``: the queued copy of the job run here whose first unit
    of work this is, deleted by the same statement when there are jobs to insert."""
    if _run_here.get() and work.jobs:
        work.here = [job for job in work.jobs if job[0] in RUN_HERE and (job[2] is None or job[2] <= work.now)]
    here = {id(job) for job in work.here}
    if services.jobs.transactional and work.jobs:
        later = work.now + timedelta(seconds=RUN_HERE_GRACE_SECONDS)
        work.took = services.jobs.stage(work.session, [
            (name, key, later, kwargs) if id(job) in here else job
            for job in work.jobs for name, key, _run_at, kwargs in [job]
        ], unstage)
        work.staged = True
        work.jobs = []
    elif here:
        work.jobs = [job for job in work.jobs if id(job) not in here]


async def after_commit(services: Services, work: Work) -> None:
    """Committed: now it is safe to wake workers and consoles, and to run the jobs kept for here."""
    for name, key, run_at, kwargs in work.jobs:
        await services.jobs.enqueue(name, key, run_at, **kwargs)
    if work.events:  # all of them in one message between processes (one NOTIFY, not one each)
        await services.events.publish_all(work.events)
    try:
        for name, key, _run_at, kwargs in work.here:
            claimed = work.claimed.pop(key, None)
            if claimed is not None:  # claimed by the unit of work itself: no claim of its own
                if services.jobs.transactional:
                    services.jobs.unstage_later([key])
                try:
                    await claimed.send(services)
                except Exception:
                    log.exception("job %s (claimed with its row) failed", key)
                continue
            token = _unstage.set([key] if services.jobs.transactional else None)
            try:
                await services.handlers.run(name, kwargs)
            finally:
                _unstage.reset(token)
    except asyncio.CancelledError:
        # Stopping: the sends claimed here and not begun go back to waiting at once (their queued
        # jobs or the reconciler send them), not after their lease.
        for claimed in work.claimed.values():
            with contextlib.suppress(Exception):
                await asyncio.shield(in_transaction(services, claimed.release))
        work.claimed.clear()
        raise


@asynccontextmanager
async def unit_of_work(services: Services) -> AsyncIterator[Work]:
    """Deprecated: blocks the event loop while the body runs. Being replaced by ``in_transaction``."""
    made: list[Work] = []
    try:
        with services.db.session() as session:
            work = Work(session=session, now=services.clock.now())
            made.append(work)
            yield work
            stage_jobs(services, work)
    except BaseException:
        _committed(None, rolled_back=made[0] if made else None)
        if made:
            services.jobs.unstage_later(made[0].took)
        raise
    _committed(work)
    await after_commit(services, work)
