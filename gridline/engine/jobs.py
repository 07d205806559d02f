"""The engine's job functions, by name, and the handlers the job queue is given.

Job functions take plain ids (a job is a row in PostgreSQL's job table or an entry of the in-process
scheduler); each claims its database row, so running a job twice is harmless.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Collection
from typing import TYPE_CHECKING, Any

from gridline.core.inbox import process_inbound
from gridline.kernel.work import running_a_job
from gridline.routing.checkins import run_checkin_step
from gridline.routing.delivery import deliver_page, update_page
from gridline.routing.escalation import run_escalation_step
from gridline.routing.message_delivery import deliver_message
from gridline.routing.transfers import run_transfer_timer
from gridline.routing.visits import run_visit_timer

if TYPE_CHECKING:
    from gridline.kernel.services import Services

log = logging.getLogger(__name__)

JobFunction = Callable[..., Awaitable[Any]]


async def _run_step(services: Services, step_id: int) -> Any:
    return await run_escalation_step(services, step_id)


async def _update_page(
    services: Services, page_id: int, note_key: str, params: dict[str, str], attempt: int = 0
) -> Any:
    return await update_page(services, page_id, note_key, params, attempt)


JOBS: dict[str, JobFunction] = {
    "process_inbound": process_inbound,
    "run_escalation_step": _run_step,
    "deliver_page": deliver_page,
    "deliver_message": deliver_message,
    "update_page": _update_page,
    "run_visit_timer": run_visit_timer,
    "run_transfer_timer": run_transfer_timer,
    "run_checkin_step": run_checkin_step,
}


class Engine:
    """The :class:`~gridline.storage.jobs.JobHandlers` of one process: runs jobs by name against
    its services and reconciles (``gridline.engine.reconciler``)."""

    def __init__(self, services: Services, jobs: dict[str, JobFunction] | None = None) -> None:
        self._services = services
        self._jobs = JOBS if jobs is None else jobs

    @property
    def names(self) -> Collection[str]:
        return self._jobs.keys()

    async def run(self, name: str, kwargs: dict[str, Any]) -> Any:
        """Run one job by name, logging (never raising) failures: the reconciler retries what is due."""
        try:
            # the jobs it queues for now run here too (``kernel.work.RUN_HERE``)
            with running_a_job(self._services.settings):
                return await self._jobs[name](self._services, **kwargs)
        except Exception:
            log.exception("job %s %s failed", name, kwargs)
            return None

    async def reconcile(self, grace_seconds: float = 0.0) -> int:
        from gridline.engine.reconciler import reconcile

        return await reconcile(self._services, grace_seconds=grace_seconds)


async def run_job(services: Services, name: str, kwargs: dict[str, Any]) -> Any:
    """Run one job by name with ``services``' engine (tests and benchmarks call jobs this way)."""
    return await services.handlers.run(name, kwargs)
