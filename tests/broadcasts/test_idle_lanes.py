"""Retention of Telegram's per-chat pacing lanes: a chat idle longer than ``pacing.chat_lane_idle_hours``
loses its ``chat:`` and ``direct:`` rows; a lane with a send time ahead, a recent one and the sender
lanes stay; the engine module runs it, and a purged chat is paced as before."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from gridline.engine.modules import MODULES, run_due_modules
from gridline.engine.retention import purge_idle_pacing_lanes
from gridline.kernel.work import in_transaction
from gridline.storage import pacing
from gridline.storage.models import PacingLane

HOUR = timedelta(hours=1)


def _lanes(services) -> dict[str, PacingLane]:
    with services.db.session() as session:
        return {row.lane: row for row in session.exec(select(PacingLane))}


def _add(services, lane: str, *, next_free, updated) -> None:
    with services.db.session() as session:
        session.add(PacingLane(lane=lane, next_free_at=next_free, updated_at=updated))


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
async def test_idle_chat_lanes_are_deleted_and_busy_or_future_ones_kept(make_services, clock, backend):
    services = await make_services(backend)
    now = clock.now()
    two_days = now - timedelta(days=2)
    _add(services, "chat:telegram:residents:1001", next_free=two_days, updated=two_days)  # idle: goes
    _add(services, "direct:telegram:residents:1001", next_free=two_days, updated=two_days)  # idle: goes
    _add(services, "chat:telegram:residents:1002", next_free=now - HOUR, updated=now - HOUR)  # recent: stays
    # A sweep reserved far ahead (its send time is in the future): stays, however old its row.
    _add(services, "chat:telegram:residents:1003", next_free=now + HOUR, updated=two_days)
    # Used two days ago for a broadcast queued to leave later (updated_at is that earliest time): stays.
    _add(services, "chat:telegram:residents:1004", next_free=two_days, updated=now + HOUR)
    _add(services, "telegram:residents", next_free=two_days, updated=two_days)  # the bot's own lane: stays
    _add(services, "sms:+8612345", next_free=two_days, updated=two_days)

    deleted = await in_transaction(services, purge_idle_pacing_lanes, services)

    assert deleted == 2
    assert sorted(_lanes(services)) == [
        "chat:telegram:residents:1002", "chat:telegram:residents:1003", "chat:telegram:residents:1004",
        "sms:+8612345", "telegram:residents",
    ]  # fmt: skip
    assert await in_transaction(services, purge_idle_pacing_lanes, services) == 0


async def test_the_engine_runs_the_purge_hourly_and_a_purged_chat_is_paced_as_before(make_services, clock):
    services = await make_services()
    assert "pacing_lanes" in {module.name for module in MODULES}
    lane = pacing.chat_lane("residents", "1001")
    old = clock.now() - timedelta(days=3)
    _add(services, lane, next_free=old, updated=old)

    done = await run_due_modules(services)
    assert done["pacing_lanes"] == 1 and lane not in _lanes(services)

    _add(services, lane, next_free=old, updated=old)
    clock.advance(timedelta(minutes=30))
    assert "pacing_lanes" not in await run_due_modules(services)  # not again within the hour
    clock.advance(timedelta(minutes=31))
    assert (await run_due_modules(services))["pacing_lanes"] == 1

    # The chat is paced from scratch: its first bulk message now, the next a chat interval later.
    def reserve(work):
        return pacing.reserve_each(work.session, [(lane, work.now), (lane, work.now)], 1.0)

    first, second = await in_transaction(services, reserve)
    assert first == clock.now() and second == clock.now() + timedelta(seconds=1)


async def test_zero_hours_keeps_every_lane(make_services, clock):
    services = await make_services(pacing={"chat_lane_idle_hours": 0})
    old = clock.now() - timedelta(days=30)
    _add(services, pacing.chat_lane("residents", "1001"), next_free=old, updated=old)
    assert await in_transaction(services, purge_idle_pacing_lanes, services) == 0
    assert len(_lanes(services)) == 1


async def test_a_lane_deleted_between_the_insert_and_the_lock_is_inserted_again(make_services, clock, monkeypatch):
    """PostgreSQL: ``INSERT … ON CONFLICT DO NOTHING`` does not lock the existing row, so the purge in
    another worker may delete it before ``SELECT … FOR UPDATE``; the reservation inserts it again."""
    services = await make_services()
    lane = pacing.chat_lane("residents", "1001")
    old = clock.now() - timedelta(days=3)
    _add(services, lane, next_free=old, updated=old)
    selects = 0

    def reserve(work):
        nonlocal selects
        exec_ = work.session.exec

        def exec_then_purge(statement, *args, **kwargs):
            nonlocal selects
            if getattr(statement, "_for_update_arg", None) is not None and selects == 0:
                selects += 1
                pacing.purge_idle_chat_lanes(work.session, clock.now())  # as if another worker had
            return exec_(statement, *args, **kwargs)

        monkeypatch.setattr(work.session, "exec", exec_then_purge)
        return pacing.reserve_each(work.session, [(lane, work.now)], 1.0)

    assert await in_transaction(services, reserve) == [clock.now()]
    assert selects == 1
    assert _lanes(services)[lane].next_free_at == clock.now() + timedelta(seconds=1)
