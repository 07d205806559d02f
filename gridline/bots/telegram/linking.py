"""Linking a staff record to a Telegram account.

Two ways, both ending in the same ``ChannelIdentity(staff_id=...)`` and a Telegram contact method:

- ``/start <code>`` with a one-time code from ``gridline staff link-code STAFF``: only a keyed hash
  of the code is stored, it expires after 24 hours and can be used once (a conditional UPDATE, so
  two simultaneous uses cannot both win);
- sharing one's own contact whose phone number is the staff record's phone.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

import phonenumbers
from sqlmodel import Session

from gridline.storage import audit, directory, people
from gridline.storage.models import ChannelIdentity, ContactMethod, Staff, StaffLinkCode

LINK_CODE_TTL = timedelta(hours=24)
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read aloud over the phone
CODE_LENGTH = 10

LinkStatus = Literal["linked", "unknown_code", "expired", "used", "inactive", "unknown_phone"]


class UnknownStaff(LookupError):
    pass


@dataclass(frozen=True)
class IssuedCode:
    code: str
    staff_code: str
    staff_name: str
    expires_at: datetime


@dataclass(frozen=True)
class LinkResult:
    status: LinkStatus
    staff_id: int | None = None
    staff_name: str | None = None
    staff_lang: str | None = None

    @property
    def linked(self) -> bool:
        return self.status == "linked"


@dataclass(frozen=True)
class TelegramAccount:
    """The Telegram side of a link."""

    user_id: int
    chat_id: int
    bot_name: str
    display: str | None = None


def may_be_link_code(text: str) -> bool:
    """Whether a `/start` parameter could be a link code, mistyped or not (8–12 letters and digits,
    dashes and spaces aside) — not a deep link's own parameter (`/start tongbai_poster` from a QR code)."""
    normalised = text.strip().replace("-", "").replace(" ", "")
    return 8 <= len(normalised) <= 12 and normalised.isascii() and normalised.isalnum()


def hash_code(code: str, secret_key: str) -> str:
    """The stored form of a link code (keyed, so a database dump does not reveal usable codes)."""
    normalised = code.strip().upper().replace("-", "").replace(" ", "")
    return hmac.new(secret_key.encode(), f"staff-link\n{normalised}".encode(), hashlib.sha256).hexdigest()


def issue_link_code(session: Session, staff_code: str, *, now: datetime, secret_key: str) -> IssuedCode:
    """Create a one-time code for staff member ``staff_code``; the plain code is returned, never stored."""
    staff = people.staff_by_code(session, staff_code)
    if staff is None or staff.id is None:
        raise UnknownStaff(staff_code)
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    expires_at = now + LINK_CODE_TTL
    session.add(
        StaffLinkCode(staff_id=staff.id, code_hash=hash_code(code, secret_key), created_at=now, expires_at=expires_at)
    )
    audit.record(
        session, at=now, actor="cli", action="staff.link_code_issued", target_kind="staff", target_id=staff.code
    )
    return IssuedCode(code=code, staff_code=staff.code, staff_name=staff.name, expires_at=expires_at)


def redeem_link_code(
    session: Session, code: str, account: TelegramAccount, *, now: datetime, secret_key: str
) -> LinkResult:
    """Use a one-time code to link ``account`` to its staff member."""
    row = people.link_code(session, hash_code(code, secret_key))
    if row is None:
        return LinkResult("unknown_code")
    if row.used_at is not None:
        return LinkResult("used")
    if row.expires_at <= now:
        return LinkResult("expired")
    if not people.use_link_code(session, row.id or 0, now):
        return LinkResult("used")
    staff = session.get(Staff, row.staff_id)
    if staff is None or not staff.active:
        return LinkResult("inactive")
    return _link(session, staff, account, now=now, how="code")


def link_by_contact(session: Session, phone: str, account: TelegramAccount, *, now: datetime) -> LinkResult:
    """The sender shared their own contact: link them if the number is an active staff member's phone."""
    e164 = telegram_phone_to_e164(phone)
    if e164 is None:
        return LinkResult("unknown_phone")
    staff = people.active_staff_by_phone(session, e164)
    if staff is None:
        return LinkResult("unknown_phone")
    return _link(session, staff, account, now=now, how="contact")


def staff_for_account(session: Session, user_id: int, bot_name: str) -> Staff | None:
    """The active staff member behind a Telegram user on this bot, if linked."""
    for name in (bot_name, ""):
        identity = people.find_identity(session, "telegram", str(user_id), name)
        if identity is not None and identity.staff_id is not None:
            staff = session.get(Staff, identity.staff_id)
            if staff is not None and staff.active:
                return staff
    return None


def telegram_phone_to_e164(raw: str) -> str | None:
    """Telegram shares numbers in international form, usually without the ``+``."""
    digits = raw.strip().replace(" ", "").replace("-", "")
    if not digits:
        return None
    if not digits.startswith("+"):
        digits = "+" + digits
    try:
        number = phonenumbers.parse(digits, None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _link(session: Session, staff: Staff, account: TelegramAccount, *, now: datetime, how: str) -> LinkResult:
    assert staff.id is not None
    identity = people.find_identity(session, "telegram", str(account.user_id), account.bot_name)
    if identity is None:
        identity = ChannelIdentity(
            channel="telegram", external_id=str(account.user_id), bot_name=account.bot_name, created_at=now
        )
    identity.staff_id = staff.id
    identity.chat_id = str(account.chat_id)
    identity.display = account.display or identity.display
    identity.unreachable = False
    session.add(identity)
    _ensure_contact_method(session, staff.id, account)
    audit.record(
        session,
        at=now,
        actor=f"staff:{staff.code}",
        action="staff.telegram_linked",
        target_kind="staff",
        target_id=staff.code,
        detail={"how": how, "bot": account.bot_name, "telegram_user_id": account.user_id},
    )
    return LinkResult("linked", staff_id=staff.id, staff_name=staff.name, staff_lang=staff.lang)


def _ensure_contact_method(session: Session, staff_id: int, account: TelegramAccount) -> None:
    """Telegram becomes the person's first channel unless they already have a working Telegram one."""
    methods = directory.contact_methods(session, staff_id)
    chat = str(account.chat_id)
    for method in methods:
        if method.channel != "telegram":
            continue
        if method.target == chat or not method.target:
            method.target, method.unreachable, method.unreachable_reason = chat, False, None
            method.bot_name = account.bot_name
            session.add(method)
            return
        if not method.unreachable:
            return
    first = min((m.position for m in methods), default=1)
    session.add(
        ContactMethod(
            staff_id=staff_id, channel="telegram", target=chat, bot_name=account.bot_name, position=first - 1
        )
    )
