"""Live console events reach other processes through Redis while it answers and through
PostgreSQL NOTIFY when it does not (or is not configured); a process never hears its own twice."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from gridline.storage.events import SharedEventBus, build_event_bus
from gridline.storage.redis_link import RedisLink
from tests.outage.support import RedisServer, eventually

pytestmark = pytest.mark.postgres


class Listener:
    """One subscriber, collecting what it hears in the background."""

    def __init__(self, bus: Any, topic: str = "cases") -> None:
        self.heard: list[dict[str, Any]] = []
        self._iterator: AsyncIterator[dict[str, Any]] = bus.subscribe(topic)
        self._task = asyncio.ensure_future(self._run())

    async def _run(self) -> None:
        async for event in self._iterator:
            self.heard.append(event)

    def refs(self) -> list[Any]:
        return [e.get("ref") for e in self.heard]

    async def stop(self) -> None:
        self._task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await self._task


def shared(bus: Any) -> SharedEventBus:
    assert isinstance(bus, SharedEventBus)
    return bus


async def test_postgresql_alone_carries_events_between_processes(make_services):
    services = await make_services("postgres")
    web = shared(services.events)
    worker = shared(build_event_bus(services.settings))  # another process's bus on the same database
    listener, own = Listener(web), Listener(worker)
    try:
        # Both listening first: NOTIFY reaches only a LISTEN already in place (the worker's bus
        # opens its own connection; on a loaded machine that can take longer than a publish).
        await asyncio.wait_for(web.postgres_listening.wait(), 10)
        await asyncio.wait_for(worker.postgres_listening.wait(), 10)
        await worker.publish("cases", {"type": "case.created", "ref": "A1"})
        await web.publish("cases", {"type": "case.updated", "ref": "A2"})
        # Across processes there is no order: the local event may overtake the one from PostgreSQL.
        await eventually(lambda: sorted(listener.refs()) == ["A1", "A2"], 20, "the worker's event on the web process",
                         lambda: f"web heard {listener.refs()}, worker heard {own.refs()}")
        await eventually(lambda: sorted(own.refs()) == ["A1", "A2"], 20, "both events on the worker process",
                         lambda: f"worker heard {own.refs()}")
        await asyncio.sleep(0.3)
        assert sorted(listener.refs()) == sorted(own.refs()) == ["A1", "A2"], "nobody hears an event twice"
    finally:
        await listener.stop()
        await own.stop()
        await worker.close()


async def test_a_transactions_events_cross_in_one_notify_in_order(make_services, monkeypatch):
    """``publish_all`` (a committed unit of work's events): one NOTIFY for all of them, heard in order
    by the other process and once by the publisher's own consoles; a batch too big for NOTIFY is split."""
    services = await make_services("postgres")
    web = shared(services.events)
    worker = shared(build_event_bus(services.settings))
    listener, own = Listener(web), Listener(worker)
    notified: list[str] = []
    notify = worker._notify

    async def counted(envelope: str) -> None:
        notified.append(envelope)
        await notify(envelope)

    monkeypatch.setattr(worker, "_notify", counted)
    try:
        await asyncio.wait_for(web.postgres_listening.wait(), 10)
        await asyncio.wait_for(worker.postgres_listening.wait(), 10)
        await worker.publish_all([("cases", {"ref": "B1"}), ("cases", {"ref": "B2"}), ("other", {"ref": "X"}),
                                  ("cases", {"ref": "B3"})])
        assert len(notified) == 1, "one NOTIFY for the transaction's events"
        await eventually(lambda: listener.refs() == ["B1", "B2", "B3"], 20, "the batch on the web process",
                         lambda: f"web heard {listener.refs()}")
        assert own.refs() == ["B1", "B2", "B3"], "the publisher's own consoles hear it once, at once"
        big = [("cases", {"ref": f"C{i}", "summary": "长" * 900}) for i in range(6)]
        await worker.publish_all(big)
        assert len(notified) > 2, "too large for one NOTIFY: split"
        await eventually(lambda: listener.refs()[3:] == [f"C{i}" for i in range(6)], 20, "the split batch, in order",
                         lambda: f"web heard {listener.refs()}")
        await asyncio.sleep(0.3)
        assert len(listener.refs()) == 9, "nobody hears an event twice"
    finally:
        await listener.stop()
        await own.stop()
        await worker.close()


@pytest.mark.redis
async def test_events_keep_flowing_through_postgresql_while_redis_is_down(make_services, redis_server: RedisServer):
    services = await make_services("postgres")
    links = [RedisLink(redis_server.url, timeout_seconds=0.5, breaker_min_seconds=0.1, breaker_max_seconds=0.5)
             for _ in range(2)]
    web, worker = (shared(build_event_bus(services.settings, link)) for link in links)
    listener = Listener(web)
    try:
        await asyncio.wait_for(web.redis_listening.wait(), 10)
        await asyncio.wait_for(web.postgres_listening.wait(), 10)
        await worker.publish("cases", {"ref": "via-redis"})
        await eventually(lambda: listener.refs() == ["via-redis"], 10, "the event through Redis")
        assert redis_server.client().pubsub_numsub(f"{services.settings.redis.namespace}:events")[0][1] == 1

        redis_server.kill()
        for ref in ("during-1", "during-2"):
            await worker.publish("cases", {"ref": ref})
        assert not links[1].available, "the publisher found Redis gone and fell back"
        await eventually(lambda: listener.refs() == ["via-redis", "during-1", "during-2"], 10,
                         "events published while Redis is down")

        redis_server.start()
        await eventually(lambda: all(link.available for link in links), 15, "both links to find Redis again")
        await asyncio.wait_for(web.redis_listening.wait(), 10)
        await worker.publish("cases", {"ref": "after"})
        await eventually(lambda: listener.refs()[-1:] == ["after"], 10, "the event after Redis is back")
        assert listener.refs() == ["via-redis", "during-1", "during-2", "after"], "none lost, none twice"
    finally:
        await listener.stop()
        for bus in (web, worker):
            await bus.close()
        for link in links:
            await link.close()
