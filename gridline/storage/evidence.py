"""Evidence rows: the photos attached to cases (the bytes are in ``storage.blobs``)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import exists
from sqlmodel import Session, col, select

from gridline.storage.models import Case, Evidence


def add(session: Session, evidence: Evidence) -> tuple[Evidence, bool]:
    """Store the row; (the existing row, False) when the same bytes are already on that case."""
    same = session.exec(
        select(Evidence).where(Evidence.case_id == evidence.case_id, Evidence.sha256 == evidence.sha256)
    ).first()
    if same is not None:
        return same, False
    session.add(evidence)
    session.flush()
    return evidence, True


def get(session: Session, evidence_id: int) -> Evidence | None:
    row = session.get(Evidence, evidence_id)
    return row if row is not None and row.purged_at is None else None


def for_case(session: Session, case_id: int) -> list[Evidence]:
    return list(
        session.exec(
            select(Evidence)
            .where(Evidence.case_id == case_id, col(Evidence.purged_at).is_(None))
            .order_by(col(Evidence.created_at), col(Evidence.id))
        )
    )


def on_case(session: Session, case_id: int, evidence_ids: Iterable[int]) -> list[Evidence]:
    """The rows among ``evidence_ids`` that belong to ``case_id`` (for a reply that cites its photos)."""
    ids = sorted(set(evidence_ids))
    if not ids:
        return []
    return list(
        session.exec(
            select(Evidence)
            .where(col(Evidence.id).in_(ids), Evidence.case_id == case_id, col(Evidence.purged_at).is_(None))
            .order_by(col(Evidence.id))
        )
    )


def latest_for_cases(session: Session, case_ids: Iterable[int]) -> dict[int, Evidence]:
    """The newest photo of each case (Open311's ``media_url``)."""
    ids = sorted(set(case_ids))
    if not ids:
        return {}
    latest: dict[int, Evidence] = {}
    rows = session.exec(
        select(Evidence)
        .where(col(Evidence.case_id).in_(ids), col(Evidence.purged_at).is_(None))
        .order_by(col(Evidence.id))
    )
    for row in rows:
        latest[row.case_id] = row
    return latest


def purgeable(session: Session, cutoff: datetime, open_statuses: Iterable[str], limit: int = 500) -> list[Evidence]:
    """Rows older than ``cutoff`` on cases that are no longer open."""
    open_cases = select(Case.id).where(col(Case.status).in_(sorted(open_statuses)))
    return list(
        session.exec(
            select(Evidence)
            .where(
                col(Evidence.created_at) < cutoff,
                col(Evidence.purged_at).is_(None),
                col(Evidence.case_id).not_in(open_cases),
            )
            .order_by(col(Evidence.id))
            .limit(limit)
        )
    )


def still_referenced(session: Session, sha256: str) -> bool:
    """Whether a row that is not purged still points at these bytes (then they stay)."""
    return bool(
        session.exec(
            select(exists().where(col(Evidence.sha256) == sha256, col(Evidence.purged_at).is_(None)))
        ).one()
    )


def mark_purged(session: Session, row: Evidence, now: datetime) -> None:
    row.sha256, row.note, row.purged_at = None, None, now
    session.add(row)
