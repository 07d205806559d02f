"""Inline-button ``callback_data``: compact, at most 64 bytes, and unforgeable.

Telegram hands ``callback_data`` back verbatim, but anybody who can talk to the bot can also send
any ``callback_data`` they like. Every button Gridline sends therefore carries a short HMAC over the
chat it was sent to and what it means, so a forged or altered button (another page id, another
action, a button copied into another chat) is refused before anything happens. Whether the person
pressing a genuine button may act is still decided by the core (``act_on_case``).

Formats (the separators match the aiogram ``CallbackData`` classes in ``aiogram_runtime``)::

    pg:<page id>:<ack|res|esc|fwd>:<mac>     a staff page action
    to:<page id>:<staff id>:<mac>             whom to reassign the page's case to (0 = cancel)
    tr:<page id>:<act>:<arg>:<mac>            a department-loop or extension action (``LOOP_ACTIONS``;
                                              ``arg``: a return reason's number, 0 = none / ask)
    op|<option data>|<mac>                    an Option the core offered (e.g. ``cat:water``)
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from typing import Literal

from gridline.domain.staff_actions import StaffAction

MAX_CALLBACK_BYTES = 64
MAC_BYTES = 9  # 72 bits, 12 base64url characters
PAGE_PREFIX = "pg"
REASSIGN_PREFIX = "to"
LOOP_PREFIX = "tr"
OPTION_PREFIX = "op"
PAGE_SEP = ":"
OPTION_SEP = "|"

# Short codes on the wire ↔ the core's action names.
PAGE_ACTIONS: dict[str, StaffAction] = {
    "ack": "acknowledge",
    "res": "resolve",
    "esc": "escalate",
    "fwd": "reassign",
}
ACTION_CODES = {action: code for code, action in PAGE_ACTIONS.items()}

# The department loop (routing.transfers) and extensions (routing.extensions), short codes on the wire.
LoopAction = Literal["accept", "reply", "return", "approve", "reject", "extend", "grant", "refuse", "transfer"]
LOOP_ACTIONS: dict[str, LoopAction] = {
    "acc": "accept",
    "rep": "reply",
    "ret": "return",
    "apv": "approve",
    "rej": "reject",
    "ext": "extend",
    "xok": "grant",
    "xno": "refuse",
    "trf": "transfer",
}
LOOP_CODES = {action: code for code, action in LOOP_ACTIONS.items()}


class CallbackTooLong(ValueError):
    """The callback data would not fit Telegram's 64-byte limit."""


@dataclass(frozen=True)
class PageCallback:
    """A verified tap on a page button."""

    page_id: int
    action: StaffAction


@dataclass(frozen=True)
class ReassignCallback:
    """A verified choice of whom to hand a case to; ``staff_id`` 0 means "cancel"."""

    page_id: int
    staff_id: int

    @property
    def cancelled(self) -> bool:
        return self.staff_id == 0


@dataclass(frozen=True)
class OptionCallback:
    """A verified tap on an Option button; ``data`` goes to the core as ``InboundMessage.choice``."""

    data: str


@dataclass(frozen=True)
class LoopCallback:
    """A verified tap on a department-loop or extension button of a page."""

    page_id: int
    action: LoopAction
    arg: int = 0


VerifiedCallback = PageCallback | ReassignCallback | LoopCallback | OptionCallback


def derive_key(bot_token: str, secret_token: str, server_secret: str) -> bytes:
    """The per-bot signing key: changing the token, webhook secret or server secret revokes old buttons."""
    material = f"gridline-telegram-callback\n{bot_token}\n{secret_token}".encode()
    return hmac.new(server_secret.encode(), material, hashlib.sha256).digest()


class CallbackSigner:
    """Builds and verifies the ``callback_data`` of one bot's buttons."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def _mac(self, chat_id: int | str, body: str) -> str:
        digest = hmac.new(self._key, f"{chat_id}\n{body}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest[:MAC_BYTES]).decode().rstrip("=")

    def page_button(self, chat_id: int | str, page_id: int, action: StaffAction) -> str:
        """``callback_data`` for a page action button sent to ``chat_id``."""
        body = PAGE_SEP.join((PAGE_PREFIX, str(int(page_id)), ACTION_CODES[action]))
        return _checked(f"{body}{PAGE_SEP}{self._mac(chat_id, body)}")

    def reassign_button(self, chat_id: int | str, page_id: int, staff_id: int) -> str:
        """``callback_data`` for "hand this page's case to ``staff_id``" (0 = cancel)."""
        body = PAGE_SEP.join((REASSIGN_PREFIX, str(int(page_id)), str(int(staff_id))))
        return _checked(f"{body}{PAGE_SEP}{self._mac(chat_id, body)}")

    def loop_button(self, chat_id: int | str, page_id: int, action: LoopAction, arg: int = 0) -> str:
        """``callback_data`` for a department-loop action on a page (``arg``: a return reason's number)."""
        body = PAGE_SEP.join((LOOP_PREFIX, str(int(page_id)), LOOP_CODES[action], str(int(arg))))
        return _checked(f"{body}{PAGE_SEP}{self._mac(chat_id, body)}")

    def option_button(self, chat_id: int | str, data: str) -> str:
        """``callback_data`` for an Option (``cat:...``, ``rate:...``) sent to ``chat_id``."""
        if OPTION_SEP in data:
            raise ValueError(f"option data may not contain {OPTION_SEP!r}: {data!r}")
        body = f"{OPTION_PREFIX}{OPTION_SEP}{data}"
        return _checked(f"{body}{OPTION_SEP}{self._mac(chat_id, body)}")

    def verify(self, chat_id: int | str, data: str | None) -> VerifiedCallback | None:
        """What a button pressed in ``chat_id`` means, or ``None`` if it was not made by this bot there."""
        if not data or len(data.encode()) > MAX_CALLBACK_BYTES:
            return None
        if data.startswith((PAGE_PREFIX + PAGE_SEP, REASSIGN_PREFIX + PAGE_SEP)):
            body, sep, mac = data.rpartition(PAGE_SEP)
            parts = body.split(PAGE_SEP)
            if not sep or len(parts) != 3 or not self._same(chat_id, body, mac):
                return None
            prefix, page_id, last = parts
            if not page_id.isdigit():
                return None
            if prefix == REASSIGN_PREFIX:
                return ReassignCallback(page_id=int(page_id), staff_id=int(last)) if last.isdigit() else None
            if last not in PAGE_ACTIONS:
                return None
            return PageCallback(page_id=int(page_id), action=PAGE_ACTIONS[last])
        if data.startswith(LOOP_PREFIX + PAGE_SEP):
            body, sep, mac = data.rpartition(PAGE_SEP)
            parts = body.split(PAGE_SEP)
            if not sep or len(parts) != 4 or not self._same(chat_id, body, mac):
                return None
            _, page_id, code, arg = parts
            if not page_id.isdigit() or not arg.isdigit() or code not in LOOP_ACTIONS:
                return None
            return LoopCallback(page_id=int(page_id), action=LOOP_ACTIONS[code], arg=int(arg))
        if data.startswith(OPTION_PREFIX + OPTION_SEP):
            body, sep, mac = data.rpartition(OPTION_SEP)
            if not sep or body.count(OPTION_SEP) != 1 or not self._same(chat_id, body, mac):
                return None
            return OptionCallback(data=body.partition(OPTION_SEP)[2])
        return None

    def _same(self, chat_id: int | str, body: str, mac: str) -> bool:
        return hmac.compare_digest(self._mac(chat_id, body).encode(), mac.encode())


def _checked(data: str) -> str:
    if len(data.encode()) > MAX_CALLBACK_BYTES:
        raise CallbackTooLong(f"callback_data of {len(data.encode())} bytes: {data!r}")
    return data
