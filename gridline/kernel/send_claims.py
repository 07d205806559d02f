"""Claims on a send while the provider call is in flight, and what to do after an interrupted one.

A page or message being sent is claimed (``sending``) with ``claimed_at``. The claim is short-lived
(``jobs.send_lease_seconds``) and renewed while the provider call runs, so a slow provider never
makes a live worker look dead, and a dead worker's sends are retried within seconds. The reconciler
marks a row whose claim lapsed as interrupted (``error = INTERRUPTED``): the worker died, or stopped,
somewhere between claiming and recording the outcome, so the text may or may not have gone out.
Before sending it again the outbox engine (``kernel.outbox_engine``) asks the provider when it can
(a notifier with ``find_page`` / ``find_message``, e.g. Twilio's message list); where it cannot, the
re-send is recorded as possibly sent twice (``record_possible_duplicate``: an audit entry, counted
in ``/metrics`` as ``gridline_sends_possibly_twice``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from gridline.kernel.work import Work, in_transaction
from gridline.settings import Settings
from gridline.storage import claims
from gridline.storage.models import AuditLog

if TYPE_CHECKING:
    from gridline.kernel.services import Services

log = logging.getLogger(__name__)

INTERRUPTED = "interrupted mid-send"
POSSIBLY_TWICE = "delivery.possibly_sent_twice"


def send_lease_seconds(settings: Settings) -> float:
    """How long a send's claim lasts without renewal (never longer than the general lease)."""
    return min(settings.jobs.send_lease_seconds, settings.jobs.lease_seconds)


@contextlib.asynccontextmanager
async def renewed_claim(services: Services, model: Any, row_id: int, status: str) -> AsyncIterator[None]:
    """Renew ``model`` row ``row_id``'s claim (while it is still ``status``) until the block ends."""
    interval = send_lease_seconds(services.settings) / 3

    async def renew() -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                await in_transaction(services, _touch, model, row_id, status)
            except Exception:  # the lease is the fallback: a missed renewal only risks a retry
                log.warning("could not renew the claim on %s %s", model.__name__, row_id, exc_info=True)

    task = asyncio.create_task(renew())
    try:
        yield
    except asyncio.CancelledError:
        # The process is stopping (SIGTERM) mid-call: give the row back now, marked interrupted, so
        # the next worker asks the provider before sending again, instead of waiting for the lease.
        # (The call may still reach the provider from its thread: that is what the mark is for.)
        with contextlib.suppress(Exception):
            await asyncio.shield(in_transaction(services, _release, model, row_id, status))
        raise
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def _release(work: Work, model: Any, row_id: int, status: str) -> None:
    claims.release_interrupted(work.session, model, row_id, status=status, error=INTERRUPTED)


def _touch(work: Work, model: Any, row_id: int, status: str) -> None:
    claims.renew(work.session, model, row_id, status=status, now=work.now)


def record_possible_duplicate(work: Work, kind: str, row_id: int, channel: str) -> None:
    """An interrupted send goes out again without the provider's word on the first: audit it."""
    work.session.add(AuditLog(at=work.now, actor="system", action=POSSIBLY_TWICE, target_kind=kind,
                              target_id=str(row_id), detail={"channel": channel}))
