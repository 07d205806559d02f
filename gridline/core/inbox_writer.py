"""Group commit for the durable inbox: webhooks that arrive while a store is in flight are stored
together, in one transaction, as soon as it is done.

Every webhook still waits for the commit of the transaction that holds its row before it is
answered (stored before 200). Up to ``MAX_IN_FLIGHT`` transactions are in flight at once; a webhook
that finds one free is stored at once, as before, and only when all are busy do arrivals wait for
the next free one, together: under load, the webhooks that arrive during a commit then cost one
commit — one WAL flush on PostgreSQL, one write lock on SQLite — instead of one each. On PostgreSQL
the batch and its ``process_inbound`` jobs are one autocommitted statement (``inbox.store_once_queued``):
one round trip per batch, where BEGIN, two INSERTs and COMMIT took four. A transaction
that waits on a lock (a provider's retry of an update still being stored elsewhere) therefore holds
up only the events in its own batch, never the webhooks after it. One bad event (say, a payload the
database refuses) does not fail the others: a batch that fails is stored again one event at a time.

Measured in ``bench/ingest_bench.py`` (docs/performance.md).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import DBAPIError

from gridline.kernel.work import Work, in_transaction
from gridline.storage import inbox
from gridline.storage.db import WRITES_FIRST

if TYPE_CHECKING:
    from gridline.kernel.services import Services

log = logging.getLogger(__name__)
MAX_BATCH = 100
MAX_IN_FLIGHT = 4  # below the database threads (default 12), so processing keeps threads of its own
Stored = inbox.Receipt  # (the event's id, whether this webhook stored it)


def _store(work: Work, arrivals: list[inbox.Arrival]) -> list[Stored]:
    stored = inbox.store_once(work.session, arrivals, work.now)
    for event_id, is_new in stored:
        if is_new:
            work.job("process_inbound", f"inbound:{event_id}", None, event_id=event_id)
    return stored


@dataclass
class _Waiting:
    arrival: inbox.Arrival
    future: asyncio.Future[Stored]


def _settle(waiting: _Waiting, result: Stored | None = None, error: BaseException | None = None) -> None:
    if waiting.future.done():  # the webhook's request was cancelled (client gone); the row is kept
        return
    if error is not None:
        waiting.future.set_exception(error)
    else:
        assert result is not None
        waiting.future.set_result(result)


class InboxWriter:
    """One per event loop (``writer_for``); its drain tasks exist only while events are waiting."""

    def __init__(self, services: Services, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self._services = services
        self._waiting: list[_Waiting] = []
        self._in_flight = 0
        self._drainers: set[asyncio.Task[None]] = set()

    async def store(self, provider: str, event_key: str, payload: dict[str, Any]) -> Stored:
        waiting = _Waiting((provider, event_key, payload), self.loop.create_future())
        self._waiting.append(waiting)
        if self._in_flight < MAX_IN_FLIGHT:
            self._in_flight += 1
            task = self.loop.create_task(self._drain(), name="gridline-inbox-writer")
            self._drainers.add(task)  # a reference, so the task is not collected mid-way
            task.add_done_callback(self._drainers.discard)
        gauge = self._services.jobs.ingest  # the in-process scheduler makes way while many wait here
        gauge.arrive()
        try:
            return await waiting.future
        finally:
            gauge.settle()

    async def _drain(self) -> None:
        WRITES_FIRST.set(True)  # this task's context only: its stores go before other SQLite writers
        try:
            while self._waiting:
                batch, self._waiting = self._waiting[:MAX_BATCH], self._waiting[MAX_BATCH:]
                await self._write(batch)
        finally:
            self._in_flight -= 1

    async def _write(self, batch: list[_Waiting], *, again: bool = False) -> None:
        services = self._services
        arrivals = [w.arrival for w in batch]
        try:
            if services.jobs.transactional:  # PostgreSQL: rows and their jobs in one autocommitted statement
                results = await services.db.run(inbox.store_once_queued, services.db.engine, arrivals,
                                                services.clock.now())
            elif services.db.is_sqlite:  # embedded: one INSERT on the driver, the jobs queued in memory after it
                results = await services.db.run(inbox.store_once_sqlite, services.db.engine, arrivals,
                                                services.clock.now())
                for event_id, is_new in results:
                    if is_new:
                        await services.jobs.enqueue("process_inbound", f"inbound:{event_id}", None, event_id=event_id)
            else:
                results = await in_transaction(services, _store, arrivals)
        except Exception as exc:
            if isinstance(exc, DBAPIError) and exc.connection_invalidated and not again:
                # The connection was cut under it (a database restart): storing is idempotent, so
                # store the batch again once on a fresh connection rather than answer 500.
                await self._write(batch, again=True)
                return
            if len(batch) == 1:
                _settle(batch[0], error=exc)
                return
            log.warning("storing %d inbound events together failed (%s); storing them one by one",
                        len(batch), type(exc).__name__)
            await asyncio.gather(*(self._write([waiting]) for waiting in batch))
            return
        for waiting, result in zip(batch, results, strict=True):
            _settle(waiting, result)


def writer_for(services: Services) -> InboxWriter:
    """The inbox writer of the running event loop (tests run one loop after another on one Services)."""
    loop = asyncio.get_running_loop()
    writer = services.parts.get(InboxWriter)
    if writer is None or writer.loop is not loop:
        writer = services.parts.put(InboxWriter(services, loop))
    return writer
