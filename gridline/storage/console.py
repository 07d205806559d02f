"""Console accounts (``console_users``) as the admin pages and the command line read them.

Sign-in attempts and their counters are in ``storage.console_logins``.
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from gridline.storage.models import ConsoleSession, ConsoleUser


def users_by_name(session: Session) -> list[ConsoleUser]:
    return list(session.exec(select(ConsoleUser).order_by(col(ConsoleUser.name))))


def user_named(session: Session, name: str) -> ConsoleUser | None:
    return session.exec(select(ConsoleUser).where(ConsoleUser.name == name)).first()


def leader_account_of(session: Session, staff_code: str) -> ConsoleUser | None:
    """The oldest leader account linked to this staff code."""
    return session.exec(
        select(ConsoleUser).where(ConsoleUser.staff_code == staff_code, ConsoleUser.role == "leader")
        .order_by(col(ConsoleUser.id))
    ).first()


def name_taken(session: Session, name: str) -> bool:
    """Whether a console account has this name."""
    return session.exec(select(ConsoleUser.id).where(ConsoleUser.name == name)).first() is not None


def session_by_token_digest(session: Session, token_digest: str) -> ConsoleSession | None:
    """The console sign-in session whose token hashes to ``token_digest`` (live or not)."""
    return session.exec(select(ConsoleSession).where(ConsoleSession.token_hash == token_digest)).first()
