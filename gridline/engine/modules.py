"""The engine's declared time-driven modules: each says what it sweeps and how often.

A module is a plain function run in one unit of work (``Work``) that finds what is due in its own
rows and acts on it; its steps are rows or case events, so a pass that runs twice or late does each
step once. New time-driven concerns (visits, check-ins, sweeps …) add themselves to :data:`MODULES`.
The reconciler runs the due ones on every pass (``gridline.engine.reconciler``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from gridline.engine.retention import purge_idle_pacing_lanes
from gridline.kernel.work import Work, in_transaction
from gridline.routing.chasing import sweep as chase_sweep
from gridline.routing.checkins import plan as plan_checkins
from gridline.routing.checkins import requeue_due_steps
from gridline.routing.closure import sweep as closure_sweep
from gridline.routing.directory import Directory
from gridline.routing.transfers import requeue_due as transfers_requeue
from gridline.routing.visits import sweep as visits_sweep

if TYPE_CHECKING:
    from gridline.kernel.services import Services

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Module:
    name: str
    # At most once per this interval per process.
    every: timedelta
    # Runs inside one transaction (the database thread); returns how many things it did.
    run: Callable[[Work, Services], int]


def _closure(work: Work, services: Services) -> int:
    """Residents who never answered "did it get solved?" are reminded, then become 回访 tasks."""
    return closure_sweep(work, services.settings.closure.confirm_wait_hours)


def _chasing(work: Work, services: Services) -> int:
    """催办 before and at each deadline, 督办 after it (routing.chasing)."""
    # The grid index is read here, in the database thread, the first time it is needed.
    return chase_sweep(work, Directory.for_services(services).grids, services.settings)


def _visits(work: Work, services: Services) -> int:
    """走千家: visit timers whose job was lost, new households' visits planned, the day's digests."""
    return visits_sweep(work, services.settings)


def _transfers(work: Work, services: Services) -> int:
    """The department loop's safety net: accept timers whose job was lost (routing.transfers)."""
    return transfers_requeue(work, services.settings.jobs.lease_seconds)


def _checkins(work: Work, services: Services) -> int:
    """平安守护: today's and tomorrow's check-ins of every opted-in member (unique per member and day,
    so planning twice is harmless), and the safety net of check-in and sweep timers whose job was lost."""
    planned = plan_checkins(work, services.settings)
    return planned + requeue_due_steps(work, services.settings.jobs.lease_seconds)


MODULES: tuple[Module, ...] = (
    Module("closure", timedelta(seconds=60), _closure),
    Module("chasing", timedelta(seconds=60), _chasing),
    Module("visits", timedelta(seconds=60), _visits),
    Module("transfers", timedelta(seconds=60), _transfers),
    Module("checkins", timedelta(seconds=60), _checkins),
    # Retention of housekeeping rows: idle Telegram chats' pacing lanes (engine.retention).
    Module("pacing_lanes", timedelta(hours=1), purge_idle_pacing_lanes),
)


async def run_due_modules(services: Services, modules: tuple[Module, ...] = MODULES) -> dict[str, int]:
    """Run each module whose interval has passed in this process; one failing never stops the rest."""
    now = services.clock.now()
    done: dict[str, int] = {}
    for module in modules:
        last = services.module_runs.get(module.name)
        if last is not None and abs(now - last) < module.every:
            continue
        services.module_runs[module.name] = now
        try:
            done[module.name] = await in_transaction(services, module.run, services)
        except Exception:  # a sweep must never stop pages from being reconciled
            log.exception("engine module %s failed", module.name)
    return done

