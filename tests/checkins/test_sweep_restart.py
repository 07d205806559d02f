"""A restart in the middle of a sweep sends nothing twice and misses nobody.

The first process starts a sweep over every grid of the demo city and dies while handing the
questions to the notifier (its job task is cancelled mid-send and its services are closed without
finishing). A second process — new services over the same database, its own empty job queue —
runs the reconciler: what was queued is delivered, the send that was cut off is retried, and every
household has exactly one question at the end. Then the second process restarts again before the
answer windows end and the visits are still due exactly once.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field

import pytest
from sqlmodel import select

from gridline.composition import build_services
from gridline.kernel.notify import Delivery, MessageNotice
from gridline.kernel.services import Services
from gridline.kernel.work import in_transaction
from gridline.routing.sweeps import start_sweep
from gridline.storage.models import CheckIn, CheckInEvent, Household
from tests.conftest import BACKENDS
from tests.core.support import RecordingNotifier

ALL_GRIDS = {"ZY01-01-1", "ZY01-01-2", "GX01-01-1", "GX01-01-2"}


@dataclass
class DyingNotifier(RecordingNotifier):
    """Sends ``survive`` messages, then hangs on the next one (the process is about to die)."""

    survive: int = 3
    started: asyncio.Event = field(default_factory=asyncio.Event)

    async def send_message(self, notice: MessageNotice) -> Delivery:
        if len(self.messages) >= self.survive:
            self.started.set()
            await asyncio.Event().wait()  # never returns: cancelled with the process
        return await super().send_message(notice)


def _question_ids(services: Services, sweep_id: int) -> set[int]:
    with services.db.session() as session:
        return {m for q in session.exec(select(CheckIn).where(CheckIn.sweep_id == sweep_id)) for m in q.message_ids}


@pytest.mark.parametrize("backend", [b for b in BACKENDS if b != "postgres+redis"] or ["sqlite"])
async def test_a_restart_in_the_middle_of_a_sweep_sends_nothing_twice_and_misses_nobody(
    make_services, backend, clock
) -> None:
    first = await make_services(backend)
    dying = DyingNotifier("sms")
    first.notifiers.register(dying)
    started = await in_transaction(
        first, start_sweep, first.settings, reason="power_outage", grid_codes=sorted(ALL_GRIDS), tags=[],
        started_by="console:supervisor", allowed_grids=ALL_GRIDS,
    )  # fmt: skip
    with first.db.session() as session:
        households = len(session.exec(select(Household)).all())
    assert started.questions == households == 9

    async def work_on(services: Services) -> None:
        while True:  # the questions leave one a second (pacing): the worker keeps up with the clock
            await services.jobs.run_due(services.handlers)
            clock.advance(seconds=1)

    drain = asyncio.create_task(work_on(first))
    await asyncio.wait_for(dying.started.wait(), timeout=60)
    drain.cancel()
    with pytest.raises(asyncio.CancelledError):
        await drain
    sent_before = [m.message_id for m in dying.messages]
    assert len(sent_before) == 3
    await first.aclose()  # the process is gone; its in-process queue with it

    # A new process over the same database, after the interrupted send's claim has lapsed.
    clock.advance(seconds=first.settings.jobs.send_lease_seconds + 1)
    second = build_services(first.settings, clock)
    try:
        after = RecordingNotifier("sms")
        second.notifiers.register(after)
        for _ in range(30):
            await second.jobs.run_due(second.handlers)
            clock.advance(seconds=1)
        sent_after = [m.message_id for m in after.messages]
        questions = _question_ids(second, started.sweep.id or 0)
        everything = Counter(sent_before + sent_after)
        assert set(everything) == questions  # nobody missed
        assert max(everything.values()) == 1  # nothing twice
    finally:
        await second.aclose()

    # Restarted again before the windows close: each silent household gets its visit once.
    clock.advance(minutes=first.settings.checkins.sweep_window_minutes)
    third = build_services(first.settings, clock)
    try:
        third.notifiers.register(RecordingNotifier("sms"))
        await third.jobs.run_due(third.handlers)
        await third.jobs.run_due(third.handlers)
        with third.db.session() as session:
            visits = session.exec(select(CheckInEvent).where(CheckInEvent.kind == "visit_due")).all()
            statuses = Counter(q.status for q in session.exec(select(CheckIn)))
        assert len(visits) == households and statuses == {"missed": households}
    finally:
        await third.aclose()
