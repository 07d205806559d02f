"""Group commit for the durable inbox: webhooks that arrive while a store is in flight are stored
together, in one transaction, as soon as it is done.

Every webhook still waits for the commit of the transaction that holds its row before it is
answered (stored before 200). Under load, the sixteen webhooks that arrive during one commit cost one
commit — one WAL flush on PostgreSQL, one write lock on SQLite — instead of sixteen; a webhook that
arrives alone is stored at once, as before. One bad event (say, a payload the database refuses)
does not fail the others: a batch that fails is stored again one event at a time.

Measured in ``bench/ingest_bench.py`` (docs/performance.md).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gridline.core.work import Work, in_transaction
from gridline.storage import inbox
from gridline.storage.models import InboundEvent

if TYPE_CHECKING:
    from gridline.core.services import Services

log = logging.getLogger(__name__)
MAX_BATCH = 100
Stored = tuple[InboundEvent, bool]


def _store(work: Work, arrivals: list[inbox.Arrival]) -> list[Stored]:
    stored = inbox.store_once(work.session, arrivals, work.now)
    for event, is_new in stored:
        if is_new:
            work.job("process_inbound", f"inbound:{event.id}", None, event_id=event.id)
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
    """One per event loop (``writer_for``); its drain task exists only while events are waiting."""

    def __init__(self, services: Services, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self._services = services
        self._waiting: list[_Waiting] = []
        self._drainer: asyncio.Task[None] | None = None

    async def store(self, provider: str, event_key: str, payload: dict[str, Any]) -> Stored:
        waiting = _Waiting((provider, event_key, payload), self.loop.create_future())
        self._waiting.append(waiting)
        if self._drainer is None or self._drainer.done():
            self._drainer = self.loop.create_task(self._drain(), name="gridline-inbox-writer")
        return await waiting.future

    async def _drain(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting[:MAX_BATCH], self._waiting[MAX_BATCH:]
            try:
                results = await in_transaction(self._services, _store, [w.arrival for w in batch])
            except Exception as exc:
                if len(batch) == 1:
                    _settle(batch[0], error=exc)
                    continue
                log.warning("storing %d inbound events together failed (%s); storing them one by one",
                            len(batch), type(exc).__name__)
                for waiting in batch:
                    try:
                        [result] = await in_transaction(self._services, _store, [waiting.arrival])
                    except Exception as one_exc:
                        _settle(waiting, error=one_exc)
                    else:
                        _settle(waiting, result)
                continue
            for waiting, result in zip(batch, results, strict=True):
                _settle(waiting, result)


def writer_for(services: Services) -> InboxWriter:
    """The inbox writer of the running event loop (tests run one loop after another on one Services)."""
    loop = asyncio.get_running_loop()
    writer = services.extras.get("inbox_writer")
    if not isinstance(writer, InboxWriter) or writer.loop is not loop:
        writer = InboxWriter(services, loop)
        services.extras["inbox_writer"] = writer
    return writer
