"""The columns of cases the console's dashboard figures are computed from (``console.metrics``):
narrow rows, not whole cases."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from sqlalchemy import select as sa_select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from gridline.storage.models import Case


class FigureColumns(NamedTuple):
    """The columns of one case that the dashboard's figures use."""

    id: int
    created_at: datetime
    category: str
    grid_code: str | None
    acknowledged_by: int | None
    assignee_staff_id: int | None
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    ack_due_at: datetime | None
    resolve_due_at: datetime | None
    rating: int | None
    resolved_by: int | None
    proactive: bool


def figure_columns(
    session: Session, *, scope: ColumnElement[bool], created_from: datetime, created_before: datetime
) -> list[FigureColumns]:
    """The figure columns of the original cases (not merged duplicates) that ``scope`` lets through,
    created in [``created_from``, ``created_before``)."""
    stmt = sa_select(*(col(getattr(Case, name)) for name in FigureColumns._fields)).where(
        scope,
        col(Case.created_at) >= created_from,
        col(Case.created_at) < created_before,
        col(Case.duplicate_of_id).is_(None),
    )
    return [FigureColumns(*row) for row in session.execute(stmt).all()]
