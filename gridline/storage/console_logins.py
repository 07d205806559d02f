"""Console accounts' failed-login counters, changed only by conditional UPDATEs.

Two web processes checking passwords for one account must not both read ``failed_logins = 3`` and
both decide the next try is free: each attempt is charged *before* its password is checked, in one
``UPDATE … WHERE not locked RETURNING failed_logins`` that the database serialises per row. An
attempt that finds the account waiting is refused without a check; success clears the charge.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, update
from sqlmodel import Session, col, select

from gridline.storage.models import ConsoleUser


@dataclass(frozen=True)
class Charged:
    """An attempt allowed to check its password: the account, its hash, the failures counted so far."""

    user_id: int
    password_hash: str
    failures: int


def find_account(session: Session, name: str) -> ConsoleUser | None:
    return session.exec(select(ConsoleUser).where(ConsoleUser.name == name)).first()


def charge_attempt(
    session: Session, user_id: int, now: datetime, wait_after: Callable[[int, datetime], datetime | None]
) -> Charged | None:
    """Count one more failure up front, unless the account must wait (then None: no check allowed)."""
    table = ConsoleUser.__table__  # type: ignore[attr-defined]
    row = session.execute(
        update(table)
        .where(table.c.id == user_id, or_(table.c.locked_until.is_(None), table.c.locked_until <= now))
        .values(failed_logins=table.c.failed_logins + 1)
        .returning(table.c.failed_logins, table.c.password_hash)
    ).first()
    if row is None:
        return None
    failures, password_hash = int(row[0]), str(row[1])
    # Still inside the UPDATE's row lock: the next attempt sees this wait.
    session.execute(update(table).where(table.c.id == user_id).values(locked_until=wait_after(failures, now)))
    return Charged(user_id=user_id, password_hash=password_hash, failures=failures)


def clear_failures(session: Session, user_id: int, now: datetime) -> ConsoleUser:
    """The password was right: the charge and any wait are cleared."""
    session.execute(
        update(ConsoleUser)
        .where(col(ConsoleUser.id) == user_id)
        .values(failed_logins=0, locked_until=None, last_login_at=now)
    )
    user = session.get(ConsoleUser, user_id, populate_existing=True)
    assert user is not None
    return user
