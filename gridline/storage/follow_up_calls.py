"""The 回访 calls Gridline places (``follow_up_calls``): one row per call to the resident."""

from __future__ import annotations

from collections.abc import Collection, Iterable

from sqlmodel import Session, col, select

from gridline.storage.models import FollowUpCall


def add(session: Session, call: FollowUpCall) -> FollowUpCall:
    session.add(call)
    session.flush()
    return call


def get(session: Session, call_id: int) -> FollowUpCall | None:
    return session.get(FollowUpCall, call_id)


def in_progress(session: Session, follow_up_id: int, statuses: Collection[str]) -> FollowUpCall | None:
    """A call for this task that is still going (placing, ringing, answered)."""
    return session.exec(
        select(FollowUpCall).where(
            FollowUpCall.follow_up_id == follow_up_id, col(FollowUpCall.status).in_(list(statuses))
        )
    ).first()


def latest_for_tasks(session: Session, follow_up_ids: Iterable[int]) -> dict[int, FollowUpCall]:
    """The newest call of each task (the console shows how it went)."""
    ids = sorted(set(follow_up_ids))
    if not ids:
        return {}
    latest: dict[int, FollowUpCall] = {}
    rows = session.exec(
        select(FollowUpCall).where(col(FollowUpCall.follow_up_id).in_(ids)).order_by(col(FollowUpCall.id))
    )
    for call in rows:
        latest[call.follow_up_id] = call
    return latest
