"""Storing webhooks goes first in an embedded process, and nothing else stops for it.

- Under a flood of webhooks the in-process scheduler holds back the processing of stored messages
  (one at a time, each after a pause or ``jobs.ingest_hold_back_seconds``), but every one of them
  still runs, and jobs that never wait (a page) pass the held-back ones.
- On SQLite the webhooks' stores take the write lock before other waiting writers, and a writer
  that has waited long enough goes with them (no writer waits forever).
- The webhook lane answers only ``POST /webhooks/telegram/<bot>``; other methods and paths reach the
  application as before.

No timing assertions: the waits here are what the code is told to wait, and only the order of
events and that everything happened are checked.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import httpx
from sqlmodel import select

from gridline.app import create_app
from gridline.clock import SystemClock
from gridline.settings import Settings
from gridline.storage.db import _SqliteWriter
from gridline.storage.jobs import EmbeddedJobQueue, IngestGauge
from gridline.storage.models import InboundEvent


class Recorder:
    """JobHandlers that note the order jobs ran in."""

    def __init__(self) -> None:
        self.ran: list[str] = []
        self.names = ("process_inbound", "deliver_page")

    async def run(self, name: str, kwargs: dict[str, Any]) -> Any:
        self.ran.append(f"{name}:{kwargs['n']}")
        await asyncio.sleep(0)

    async def reconcile(self, grace_seconds: float = 0.0) -> int:
        return 0


async def until(condition: Any, seconds: float = 20.0) -> None:
    for _ in range(int(seconds / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("never happened")


async def test_under_a_flood_processing_is_held_back_but_runs_and_a_page_passes_it() -> None:
    settings = Settings.model_validate({"jobs": {"ingest_hold_back_seconds": 0.05, "poll_seconds": 0.01}})
    queue = EmbeddedJobQueue(settings, SystemClock())
    for _ in range(IngestGauge.FLOOD_RATE):
        queue.ingest.arrive()  # webhooks waiting for their store, and they never settle: the flood goes on
    assert queue.ingest.flooded
    handlers = Recorder()
    for n in range(5):
        await queue.enqueue("process_inbound", f"inbound:{n}", n=n)
    await queue.enqueue("deliver_page", "page:1", n=1)
    await queue.start_in_process(handlers)
    try:
        await until(lambda: len(handlers.ran) == 6)  # the flood never ended, and all of it ran
    finally:
        await queue.close()
    assert handlers.ran[0] == "deliver_page:1", handlers.ran
    assert sorted(handlers.ran[1:]) == [f"process_inbound:{n}" for n in range(5)]


async def test_without_a_flood_processing_is_not_held_back() -> None:
    settings = Settings.model_validate({"jobs": {"ingest_hold_back_seconds": 3600, "poll_seconds": 0.01}})
    queue = EmbeddedJobQueue(settings, SystemClock())
    queue.ingest.arrive()  # one webhook being stored is no flood
    handlers = Recorder()
    for n in range(3):
        await queue.enqueue("process_inbound", f"inbound:{n}", n=n)
    await queue.start_in_process(handlers)
    try:
        await until(lambda: len(handlers.ran) == 3)  # an hour's hold-back would fail this
    finally:
        await queue.close()


def test_a_few_webhooks_waiting_together_at_a_moderate_rate_are_no_flood() -> None:
    gauge = IngestGauge()
    for _ in range(IngestGauge.FLOOD):
        gauge.arrive()
    assert gauge.waiting == IngestGauge.FLOOD
    assert not gauge.flooded  # a slow moment at 20 reports/s must not hold every report's page back


async def test_a_flood_ends_when_the_webhooks_are_answered() -> None:
    gauge = IngestGauge()
    for _ in range(IngestGauge.FLOOD_RATE):
        gauge.arrive()
    assert gauge.flooded
    for _ in range(IngestGauge.FLOOD_RATE):
        gauge.settle()
    assert gauge.waiting == 0
    await gauge.calm(3600)  # returns once the window after the flood has passed, not after an hour
    assert not gauge.flooded


def test_the_webhooks_stores_take_the_sqlite_write_lock_before_other_waiting_writers() -> None:
    writer = _SqliteWriter()
    writer.FAIR_AFTER = 3600  # type: ignore[misc]  (no writer counts as waited-long here)
    assert writer._acquire(first=False, timeout=5)  # a processing transaction holds the lock
    order: list[str] = []

    def take(name: str, first: bool) -> None:
        assert writer._acquire(first=first, timeout=30)
        order.append(name)
        release(writer)

    processing = threading.Thread(target=take, args=("processing", False))
    processing.start()
    wait_until(lambda: processing.is_alive())
    store = threading.Thread(target=take, args=("store", True))
    store.start()
    wait_until(lambda: writer._first_waiting == 1)
    release(writer)
    store.join(10)
    processing.join(10)
    assert order == ["store", "processing"]


def test_a_writer_that_waited_long_enough_is_not_held_back_by_the_stores_forever() -> None:
    writer = _SqliteWriter()
    writer.FAIR_AFTER = 0.01  # type: ignore[misc]
    stop = threading.Event()

    def flood() -> None:  # webhooks' stores, one after another without a pause
        while not stop.is_set():
            if writer._acquire(first=True, timeout=30):
                release(writer)

    floods = [threading.Thread(target=flood) for _ in range(3)]
    for thread in floods:
        thread.start()
    try:
        assert writer._acquire(first=False, timeout=30), "the processing writer never got the lock"
        release(writer)
    finally:
        stop.set()
        for thread in floods:
            thread.join(10)


def release(writer: _SqliteWriter) -> None:
    with writer._free:
        writer._held = False
        writer._free.notify_all()


def wait_until(condition: Any, seconds: float = 10.0) -> None:
    stop = threading.Event()
    for _ in range(int(seconds / 0.005)):
        if condition():
            return
        stop.wait(0.005)
    raise AssertionError("never happened")


async def test_the_lane_answers_only_posts_to_a_bot_and_passes_the_rest_on(make_services) -> None:
    secret = "lane-s3cret"
    bot = {"token": "100001:TEST-city-bot", "secret_token": secret}
    services = await make_services(telegram={"bots": {"city": bot}})
    app = create_app(services, run_jobs=False)
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1:8000") as client:
        stored = await client.post("/webhooks/telegram/city", json={"update_id": 41}, headers=headers)
        assert (stored.status_code, stored.json()) == (200, {"ok": True, "description": "stored"})
        assert stored.headers["content-type"] == "application/json"
        # Not the lane's: they go on to the application's routing, which has no such routes.
        assert (await client.get("/webhooks/telegram/city", headers=headers)).status_code in (404, 405)
        deeper = await client.post("/webhooks/telegram/city/x", json={"update_id": 42}, headers=headers)
        nameless = await client.post("/webhooks/telegram/", json={"update_id": 43}, headers=headers)
        assert (deeper.status_code, nameless.status_code) == (404, 404)
        assert (await client.get("/healthz")).status_code == 200
    with services.db.session() as session:
        keys = session.exec(select(InboundEvent.event_key).where(InboundEvent.provider == "telegram:city")).all()
    assert list(keys) == ["41"]


async def test_a_held_back_job_is_not_queued_again_by_the_reconciler_while_it_waits() -> None:
    settings = Settings.model_validate({"jobs": {"ingest_hold_back_seconds": 0.3, "poll_seconds": 0.01}})
    queue = EmbeddedJobQueue(settings, SystemClock())
    for _ in range(IngestGauge.FLOOD_RATE):
        queue.ingest.arrive()
    handlers = Recorder()
    await queue.enqueue("process_inbound", "inbound:1", n=1)
    await queue.start_in_process(handlers)
    try:
        await until(lambda: not queue._heap)  # taken off the heap: waiting at the turnstile
        await queue.enqueue("process_inbound", "inbound:1", n=1)  # what the reconciler does
        assert queue.pending() == 1
        await until(lambda: len(handlers.ran) == 1)
        await asyncio.sleep(0.5)  # longer than the hold-back: a second copy would have run by now
    finally:
        await queue.close()
    assert handlers.ran == ["process_inbound:1"]
