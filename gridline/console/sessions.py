"""Console logins and server-side sessions (stored in ``console_sessions``).

The cookie holds ``token.mac``; the database holds only the token's SHA-256. A session ends at
``expires_at`` (``console.session_hours`` after login) or when revoked (logout).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, select

from gridline.clock import as_utc
from gridline.console import security
from gridline.storage.audit import record
from gridline.storage.models import ConsoleUser
from gridline.storage.models.console import ConsoleSession

SESSION_COOKIE = "gridline_console"
SESSION_PURPOSE = "console-session"


@dataclass(frozen=True)
class LoginOutcome:
    """``ok`` with the new session's cookie value, or why not: ``bad_credentials`` | ``wait`` | ``locked``."""

    ok: bool
    reason: str = ""
    cookie: str | None = None
    retry_at: datetime | None = None
    user: ConsoleUser | None = None


def attempt_login(
    session: Session,
    *,
    name: str,
    password: str,
    now: datetime,
    secret: str,
    session_hours: int,
    ip: str | None = None,
    user_agent: str | None = None,
) -> LoginOutcome:
    """Check a password under the failed-login policy; on success open a session.

    While the account must wait (after repeated failures) the password is not even checked, so
    guessing during the delay gains nothing; the attempt is still audited.
    """
    user = session.exec(select(ConsoleUser).where(ConsoleUser.name == name)).first()
    if user is not None and user.locked_until is not None and as_utc(user.locked_until) > now:
        reason = "locked" if user.failed_logins >= security.LOCKOUT_AFTER else "wait"
        record(session, at=now, actor=f"console:{name}", action="console.login_refused",
               target_kind="console_user", target_id=user.id or "", detail={"reason": reason}, ip=ip)
        return LoginOutcome(ok=False, reason=reason, retry_at=as_utc(user.locked_until))

    if not security.verify_password(user.password_hash if user else None, password) or user is None:
        if user is not None:
            user.failed_logins += 1
            user.locked_until = security.wait_after_failures(user.failed_logins, now)
            session.add(user)
        record(session, at=now, actor=f"console:{name}", action="console.login_failed",
               target_kind="console_user", target_id=(user.id if user else "") or "",
               detail={"failures": user.failed_logins if user else None}, ip=ip)
        if user is not None and user.locked_until is not None:
            reason = "locked" if user.failed_logins >= security.LOCKOUT_AFTER else "wait"
            return LoginOutcome(ok=False, reason=reason, retry_at=as_utc(user.locked_until))
        return LoginOutcome(ok=False, reason="bad_credentials")

    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    session.add(user)
    token = security.new_token()
    assert user.id is not None
    session.add(
        ConsoleSession(
            token_hash=security.token_digest(token),
            user_id=user.id,
            csrf_token=security.new_token(),
            created_at=now,
            expires_at=now + timedelta(hours=session_hours),
            last_seen_at=now,
            ip=ip,
            user_agent=(user_agent or "")[:300] or None,
        )
    )
    record(session, at=now, actor=f"console:{name}", action="console.login",
           target_kind="console_user", target_id=user.id, ip=ip)
    return LoginOutcome(ok=True, cookie=security.sign(secret, SESSION_PURPOSE, token), user=user)


def lookup_session(
    session: Session, cookie: str | None, *, now: datetime, secret: str
) -> tuple[ConsoleSession, ConsoleUser] | None:
    """The live session and its user behind a cookie, or None (bad signature, unknown, expired, revoked)."""
    token = security.unsign(secret, SESSION_PURPOSE, cookie)
    if token is None:
        return None
    row = session.exec(
        select(ConsoleSession).where(ConsoleSession.token_hash == security.token_digest(token))
    ).first()
    if row is None or row.revoked_at is not None or as_utc(row.expires_at) <= now:
        return None
    user = session.get(ConsoleUser, row.user_id)
    if user is None:
        return None
    return row, user


def revoke_session(session: Session, row: ConsoleSession, *, now: datetime, actor: str, ip: str | None) -> None:
    """End a session (logout)."""
    row.revoked_at = now
    session.add(row)
    record(session, at=now, actor=actor, action="console.logout",
           target_kind="console_user", target_id=row.user_id, ip=ip)


def open_session(
    session: Session,
    user: ConsoleUser,
    *,
    now: datetime,
    secret: str,
    session_hours: int,
    ip: str | None = None,
    user_agent: str | None = None,
) -> str:
    """Open a session for ``user`` without a password (the caller proved who they are, e.g. with a
    one-time sign-in link); returns the cookie value."""
    token = security.new_token()
    assert user.id is not None
    user.last_login_at = now
    session.add(user)
    session.add(
        ConsoleSession(
            token_hash=security.token_digest(token),
            user_id=user.id,
            csrf_token=security.new_token(),
            created_at=now,
            expires_at=now + timedelta(hours=session_hours),
            last_seen_at=now,
            ip=ip,
            user_agent=(user_agent or "")[:300] or None,
        )
    )
    return security.sign(secret, SESSION_PURPOSE, token)
