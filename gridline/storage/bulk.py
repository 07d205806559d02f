"""Writing many rows quickly: plain column values and one INSERT per batch instead of ORM objects.

A synthetic city of 20,000 grids has 40,000 staff and half a million shifts; building an ORM object
per row costs more than the database does.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, TypeVar

from sqlalchemy import insert
from sqlmodel import Session, SQLModel

T = TypeVar("T")
# Stay far below every database's limit on bound parameters per statement.
IN_BATCH = 500


def chunks(items: Sequence[T], size: int = IN_BATCH) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def insert_rows(session: Session, model: type[SQLModel], rows: list[dict[str, Any]]) -> None:
    """INSERT ``rows`` (column values) into ``model``'s table in batches."""
    for batch in chunks(rows, 2000):
        session.execute(insert(model), list(batch))
