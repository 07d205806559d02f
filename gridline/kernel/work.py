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

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

from sqlmodel import Session

if TYPE_CHECKING:
    from gridline.kernel.services import Services

P = ParamSpec("P")
T = TypeVar("T")


@dataclass
class Work:
    session: Session
    now: datetime
    jobs: list[tuple[str, str, datetime | None, dict[str, Any]]] = field(default_factory=list)
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def job(self, name: str, key: str, run_at: datetime | None = None, **kwargs: Any) -> None:
        self.jobs.append((name, key, run_at, kwargs))

    def event(self, topic: str, data: dict[str, Any]) -> None:
        self.events.append((topic, data))


async def in_transaction(
    services: Services, body: Callable[Concatenate[Work, P], T], *args: P.args, **kwargs: P.kwargs
) -> T:
    """Run ``body(work, *args, **kwargs)`` in one transaction in a database thread; return its result."""

    def run() -> tuple[T, Work]:
        with services.db.session() as session:
            work = Work(session=session, now=services.clock.now())
            result = body(work, *args, **kwargs)
            stage_jobs(services, work)
        return result, work

    result, work = await services.db.run(run)
    await after_commit(services, work)
    return result


def stage_jobs(services: Services, work: Work) -> None:
    """Insert the body's jobs in its own transaction when the queue lives in the database."""
    if services.jobs.transactional and work.jobs:
        services.jobs.stage(work.session, work.jobs)
        work.jobs = []


async def after_commit(services: Services, work: Work) -> None:
    """Committed: now it is safe to wake workers and consoles."""
    for name, key, run_at, kwargs in work.jobs:
        await services.jobs.enqueue(name, key, run_at, **kwargs)
    for topic, data in work.events:
        await services.events.publish(topic, data)


@asynccontextmanager
async def unit_of_work(services: Services) -> AsyncIterator[Work]:
    """Deprecated: blocks the event loop while the body runs. Being replaced by ``in_transaction``."""
    with services.db.session() as session:
        work = Work(session=session, now=services.clock.now())
        yield work
        stage_jobs(services, work)
    await after_commit(services, work)
