"""The broadcast lifecycle: ``draft → sending → done``, ``draft → cancelled``, ``sending →
cancelled`` (``BROADCAST_TRANSITIONS``), and its one writer :func:`transition`, which checks the
table, writes the status, stamps its time and writes the audit entry (docs/broadcasts.md)."""

from __future__ import annotations

from enum import StrEnum

from gridline.domain.lifecycle import ForbiddenTransition
from gridline.kernel.work import Work
from gridline.storage import audit
from gridline.storage.models import Broadcast


class BroadcastStatus(StrEnum):
    DRAFT = "draft"  # written, recipients previewed, nothing queued
    SENDING = "sending"  # confirmed: one message per recipient queued, paced
    DONE = "done"  # every message was handed to its provider (or failed)
    CANCELLED = "cancelled"  # stopped: what was not yet sent never will be


BROADCAST_TRANSITIONS: dict[BroadcastStatus, frozenset[BroadcastStatus]] = {
    BroadcastStatus.DRAFT: frozenset({BroadcastStatus.SENDING, BroadcastStatus.CANCELLED}),
    BroadcastStatus.SENDING: frozenset({BroadcastStatus.DONE, BroadcastStatus.CANCELLED}),
    BroadcastStatus.DONE: frozenset(),
    BroadcastStatus.CANCELLED: frozenset(),
}


def transition(work: Work, broadcast: Broadcast, wanted: BroadcastStatus, actor: str,
               detail: dict[str, object] | None = None, ip: str | None = None) -> None:
    """Move ``broadcast`` to ``wanted`` (or raise ``ForbiddenTransition``), stamped and audited."""
    current = BroadcastStatus(broadcast.status)
    if wanted not in BROADCAST_TRANSITIONS[current]:
        raise ForbiddenTransition("broadcast", current, wanted)
    broadcast.status = wanted.value
    if wanted == BroadcastStatus.SENDING:
        broadcast.sending_at = work.now
    elif wanted == BroadcastStatus.DONE:
        broadcast.done_at = work.now
    elif wanted == BroadcastStatus.CANCELLED:
        broadcast.cancelled_at = work.now
    work.session.add(broadcast)
    audit.record(work.session, at=work.now, actor=actor, action=f"broadcast.{wanted.value}",
                 target_kind="broadcast", target_id=broadcast.id or 0,
                 detail={"from": current.value, **(detail or {})}, ip=ip)
    work.event("broadcasts", {"type": "status", "broadcast_id": broadcast.id, "status": wanted.value})
