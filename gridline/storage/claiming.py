"""Claim a row by a conditional UPDATE and get it back in the same round trip.

``UPDATE … WHERE <still waiting> … RETURNING *`` (PostgreSQL; SQLite ≥ 3.35): one statement where
an UPDATE and then a SELECT of the row took two. The row comes back as the session's object, fresh.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy.sql.dml import Update
from sqlmodel import Session

M = TypeVar("M")


def claimed(session: Session, model: type[M], statement: Update) -> M | None:
    """The row ``statement`` (an UPDATE of ``model`` with its claim's conditions) changed, or None."""
    options: dict[str, Any] = {"populate_existing": True, "synchronize_session": False}
    rows = session.scalars(statement.returning(model), execution_options=options).all()  # type: ignore[arg-type]
    return rows[0] if len(rows) == 1 else None
