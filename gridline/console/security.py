"""Passwords, signed tokens and the failed-login policy of the console.

Pure functions (no database, no clock of their own) so the policy can be read and tested on its own.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

ROLES = ("admin", "supervisor", "leader", "auditor")

_hasher = PasswordHasher()


@cache
def _dummy_hash() -> str:
    """Verifying against this when the user does not exist keeps the answer time the same, so
    response times do not tell which account names exist. Made on first use, not at import: one
    argon2 hash costs 0.1 s on a quiet machine and 1.7 s on a loaded one, and every ``gridline``
    command and every web worker imports this module before it answers anything."""
    return _hasher.hash("gridline-no-such-user")

# Failed-login policy: the first few mistakes cost nothing; then each further one makes the person
# wait longer before the next try; at LOCKOUT_AFTER the account is locked for LOCKOUT.
FREE_FAILURES = 3
DELAY_SECONDS = (5, 15, 30, 60, 120)
LOCKOUT_AFTER = FREE_FAILURES + len(DELAY_SECONDS) + 1
LOCKOUT = timedelta(minutes=30)


def hash_password(password: str) -> str:
    """An argon2id hash of ``password``."""
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when ``password`` matches; a missing hash still costs one verification."""
    try:
        return _hasher.verify(password_hash or _dummy_hash(), password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def wait_after_failures(failures: int, now: datetime) -> datetime | None:
    """When the next login attempt is allowed after ``failures`` consecutive failures (None = now)."""
    if failures >= LOCKOUT_AFTER:
        return now + LOCKOUT
    if failures <= FREE_FAILURES:
        return None
    return now + timedelta(seconds=DELAY_SECONDS[failures - FREE_FAILURES - 1])


def new_token() -> str:
    """A random URL-safe token (256 bits)."""
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """What is stored for a token: its SHA-256, hex."""
    return hashlib.sha256(token.encode()).hexdigest()


def _mac(secret: str, purpose: str, value: str) -> str:
    digest = hmac.new(secret.encode(), f"{purpose}:{value}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def sign(secret: str, purpose: str, value: str) -> str:
    """``value`` followed by a MAC binding it to ``purpose`` (session cookie, login CSRF, ...)."""
    return f"{value}.{_mac(secret, purpose, value)}"


def unsign(secret: str, purpose: str, signed: str | None) -> str | None:
    """The value inside ``signed`` if its MAC is right, else None."""
    if not signed or "." not in signed:
        return None
    value, mac = signed.rsplit(".", 1)
    if not hmac.compare_digest(mac, _mac(secret, purpose, value)):
        return None
    return value


def same_token(expected: str | None, given: str | None) -> bool:
    """Constant-time comparison that is False when either side is missing."""
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())
