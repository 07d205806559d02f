"""Console logins and server-side sessions (stored in ``console_sessions``).

The cookie holds ``token.mac``; the database holds only the token's SHA-256. A session ends at
``expires_at`` (``console.session_hours`` after login) or when revoked (logout).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlmodel import Session

from gridline.clock import as_utc
from gridline.console import security
from gridline.kernel.work import Work, in_transaction
from gridline.storage import console as console_accounts
from gridline.storage import console_logins
from gridline.storage.audit import record
from gridline.storage.console_logins import Charged
from gridline.storage.models import ConsoleUser
from gridline.storage.models.console import ConsoleSession

if TYPE_CHECKING:
    from gridline.kernel.services import Services

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


async def log_in(
    services: Services, *, name: str, password: str, ip: str | None = None, user_agent: str | None = None
) -> LoginOutcome:
    """Check a password under the failed-login policy; on success open a session.

    The attempt is charged as a failure before the password is checked (``storage.console_logins``),
    so parallel attempts from any number of processes get exactly the policy's number of checks;
    while the account must wait the password is not even checked (the attempt is still audited).
    argon2 runs in a worker thread, never on the event loop.
    """
    charge = await in_transaction(services, _charge, name, ip)
    if isinstance(charge, LoginOutcome):
        return charge
    hash_ = charge.password_hash if charge is not None else None
    if await asyncio.to_thread(security.verify_password, hash_, password) and charge is not None:
        return await in_transaction(
            services, _open, charge, name, services.settings.server.secret_key,
            services.settings.console.session_hours, ip, user_agent,
        )
    return await in_transaction(services, _failed, charge, name, ip)


def _charge(work: Work, name: str, ip: str | None) -> Charged | LoginOutcome | None:
    user = console_logins.find_account(work.session, name)
    if user is None or user.id is None:
        return None  # still costs one (dummy) verification, so names cannot be told apart by time
    charged = console_logins.charge_attempt(work.session, user.id, work.now, security.wait_after_failures)
    if charged is not None:
        return charged
    work.session.refresh(user)
    retry_at = as_utc(user.locked_until) if user.locked_until else work.now
    reason = "locked" if user.failed_logins >= security.LOCKOUT_AFTER else "wait"
    record(work.session, at=work.now, actor=f"console:{name}", action="console.login_refused",
           target_kind="console_user", target_id=user.id, detail={"reason": reason}, ip=ip)
    return LoginOutcome(ok=False, reason=reason, retry_at=retry_at)


def _failed(work: Work, charge: Charged | None, name: str, ip: str | None) -> LoginOutcome:
    record(work.session, at=work.now, actor=f"console:{name}", action="console.login_failed",
           target_kind="console_user", target_id=charge.user_id if charge else "",
           detail={"failures": charge.failures if charge else None}, ip=ip)
    if charge is None:
        return LoginOutcome(ok=False, reason="bad_credentials")
    wait = security.wait_after_failures(charge.failures, work.now)
    if wait is None:
        return LoginOutcome(ok=False, reason="bad_credentials")
    reason = "locked" if charge.failures >= security.LOCKOUT_AFTER else "wait"
    return LoginOutcome(ok=False, reason=reason, retry_at=wait)


def _open(
    work: Work, charge: Charged, name: str, secret: str, session_hours: int, ip: str | None, user_agent: str | None
) -> LoginOutcome:
    user = console_logins.clear_failures(work.session, charge.user_id, work.now)
    token = security.new_token()
    work.session.add(
        ConsoleSession(
            token_hash=security.token_digest(token),
            user_id=charge.user_id,
            csrf_token=security.new_token(),
            created_at=work.now,
            expires_at=work.now + timedelta(hours=session_hours),
            last_seen_at=work.now,
            ip=ip,
            user_agent=(user_agent or "")[:300] or None,
        )
    )
    record(work.session, at=work.now, actor=f"console:{name}", action="console.login",
           target_kind="console_user", target_id=charge.user_id, ip=ip)
    return LoginOutcome(ok=True, cookie=security.sign(secret, SESSION_PURPOSE, token), user=user)


def lookup_session(
    session: Session, cookie: str | None, *, now: datetime, secret: str
) -> tuple[ConsoleSession, ConsoleUser] | None:
    """The live session and its user behind a cookie, or None (bad signature, unknown, expired, revoked)."""
    token = security.unsign(secret, SESSION_PURPOSE, cookie)
    if token is None:
        return None
    row = console_accounts.session_by_token_digest(session, security.token_digest(token))
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
