"""Acknowledgements (``acknowledgements``): one row each time someone took a case (接单), with the
page and channel they took it from."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from gridline.storage.models import Acknowledgement


def add(
    session: Session, *, case_id: int, page_id: int | None, staff_id: int, channel: str, at: datetime
) -> Acknowledgement:
    """Record that ``staff_id`` took the case (added to the session, flushed with it)."""
    ack = Acknowledgement(case_id=case_id, page_id=page_id, staff_id=staff_id, channel=channel, at=at)
    session.add(ack)
    return ack


def of_case(session: Session, case_id: int) -> list[Acknowledgement]:
    """The case's acknowledgements, oldest first."""
    return list(
        session.exec(
            select(Acknowledgement).where(Acknowledgement.case_id == case_id).order_by(col(Acknowledgement.at))
        )
    )
