"""Claims on a send in flight (``claimed_at`` on ``pages`` and ``messages``), renewed while the provider works.

The claim itself is taken by each row's store (``pages.claim_for_sending``, ``outbox.claim_for_sending``);
this module only keeps a live claim from lapsing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col

from gridline.domain.lifecycle import MESSAGE, PAGE, MessageStatus, PageStatus
from gridline.storage.models import Message, Page


def renew(session: Session, model: type[Page] | type[Message], row_id: int, *, status: str, now: datetime) -> bool:
    """Stamp the claim on ``model`` row ``row_id`` with ``now`` if it is still ``status``; whether it was."""
    renewed = session.execute(
        update(model).where(col(model.id) == row_id, col(model.status) == status).values(claimed_at=now)
    ).rowcount  # type: ignore[attr-defined]
    return bool(renewed)


# What a released send goes back to, so the next worker's reconcile pass queues it again.
_WAITING = {"pages": "scheduled", "messages": "queued"}


def release_interrupted(
    session: Session, model: type[Page] | type[Message], row_id: int, *, status: str, error: str | None
) -> bool:
    """Give back a send this process claimed and could not finish (it is stopping): waiting again,
    marked ``error`` (interrupted), as the reconciler marks a claim whose lease lapsed; ``None``: a
    send claimed with its row and never begun (``kernel.outbox_engine.claim_with_row``)."""
    if model is Page:
        current = PAGE.guard(PageStatus(status), PageStatus.SCHEDULED)
    else:
        current = MESSAGE.guard(MessageStatus(status), MessageStatus.QUEUED)
    released = session.execute(
        update(model).where(col(model.id) == row_id, col(model.status) == current)
        .values(status=_WAITING[model.__tablename__], error=error)  # type: ignore[attr-defined]
    ).rowcount  # type: ignore[attr-defined]
    return bool(released)
