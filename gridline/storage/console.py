"""Console accounts (``console_users``) as the admin pages and the command line read them.

Sign-in attempts and their counters are in ``storage.console_logins``.
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from gridline.storage.models import ConsoleUser


def users_by_name(session: Session) -> list[ConsoleUser]:
    return list(session.exec(select(ConsoleUser).order_by(col(ConsoleUser.name))))


def user_named(session: Session, name: str) -> ConsoleUser | None:
    return session.exec(select(ConsoleUser).where(ConsoleUser.name == name)).first()
