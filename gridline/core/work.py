"""A unit of work: one database transaction plus the jobs and events it causes.

Jobs are queued and events published only after the transaction commits, so a worker never picks
up a row that is not there yet, and a rolled-back change never pages anyone.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlmodel import Session

if TYPE_CHECKING:
    from gridline.core.services import Services


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


@asynccontextmanager
async def unit_of_work(services: Services) -> AsyncIterator[Work]:
    with services.db.session() as session:
        work = Work(session=session, now=services.clock.now())
        yield work
    # Committed: now it is safe to wake workers and consoles.
    for name, key, run_at, kwargs in work.jobs:
        await services.jobs.enqueue(name, key, run_at, **kwargs)
    for topic, data in work.events:
        await services.events.publish(topic, data)
