"""The transfer lifecycle's one writer: ``transition`` checks ``TRANSFER_TRANSITIONS``, stamps the
time, and records the typed case event and the audit entry (docs/departments.md)."""

from __future__ import annotations

import os
import socket
from typing import Any

from gridline.domain.lifecycle import (
    ForbiddenTransition,
)
from gridline.domain.transfers import (
    TRANSFER_ESCALATED,
    TRANSFER_PAGES,
    TRANSFER_TRANSITIONS,
    TransferStatus,
)
from gridline.kernel.work import Work
from gridline.routing.timeline import record_event
from gridline.storage import audit
from gridline.storage.models import Transfer

WORKER_ID = f"{socket.gethostname()}:{os.getpid()}"


# When each status is reached, stamped by transition().
_STAMPS = {
    TransferStatus.ACCEPTED: "accepted_at",
    TransferStatus.ESCALATED: "escalated_at",
    TransferStatus.REPLIED: "replied_at",
    TransferStatus.APPROVED: "reviewed_at",
    TransferStatus.REJECTED: "reviewed_at",
    TransferStatus.RETURNED: "returned_at",
}

ESCALATED = TRANSFER_ESCALATED
PAGE_REASONS = TRANSFER_PAGES


def allowed(current: str, wanted: str) -> bool:
    return TransferStatus(wanted) in TRANSFER_TRANSITIONS[TransferStatus(current)]


def transition(
    work: Work, transfer: Transfer, wanted: TransferStatus, actor: str, data: dict[str, Any] | None = None
) -> None:
    """Move ``transfer`` to ``wanted``: check the table, stamp the time, record the case event and audit."""
    current = TransferStatus(transfer.status)
    if wanted not in TRANSFER_TRANSITIONS[current]:
        raise ForbiddenTransition("transfer", current, wanted)
    transfer.status = wanted.value
    stamp = _STAMPS.get(wanted)
    if stamp is not None:
        setattr(transfer, stamp, work.now)
    transfer.updated_at = work.now
    details = {"transfer_id": transfer.id, "department": transfer.department, "from": current.value, **(data or {})}
    record_event(work, transfer.case_id, f"transfer_{wanted.value}", actor, details)
    audit.record(
        work.session, at=work.now, actor=actor, action=f"transfer.{wanted.value}", target_kind="case",
        target_id=transfer.case_id, detail=details,
    )  # fmt: skip
