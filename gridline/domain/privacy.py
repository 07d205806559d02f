"""Masking of residents' contact details: phone numbers and Telegram handles are hidden by default.

Revealing one is a deliberate, audited action (see the ``reveal`` route). Masking is applied when
rendering, so the stored data stays complete for delivery.
"""

from __future__ import annotations

import re

# A run of digits (with the separators people type) long enough to be a phone number: mainland
# mobiles (1xx xxxx xxxx), landlines with area codes, E.164.
_PHONE_IN_TEXT = re.compile(r"(?<!\d)\+?\d[\d\- ]{6,}\d(?!\d)")
_HANDLE_IN_TEXT = re.compile(r"(?<![\w@])@[A-Za-z0-9_]{4,32}")


def mask_phone(value: str | None) -> str:
    """``+8613812345678`` → ``+86138****5678``: enough to tell numbers apart, not to dial one."""
    if not value:
        return ""
    digits = [i for i, ch in enumerate(value) if ch.isdigit()]
    if len(digits) <= 4:
        return "*" * len(value)
    if len(digits) >= 8:
        keep_head, keep_tail = (5 if value.startswith("+") and len(digits) >= 11 else 3), 4
    else:  # a short number: hide at least half of it
        keep_head, keep_tail = 2, 1
    hidden = set(digits[keep_head : len(digits) - keep_tail])
    return "".join("*" if i in hidden else ch for i, ch in enumerate(value))


def mask_handle(value: str | None) -> str:
    """``@wangfang_1960`` → ``@wa***60``; a display name is shortened the same way."""
    if not value:
        return ""
    prefix = "@" if value.startswith("@") else ""
    body = value[len(prefix) :]
    if len(body) <= 2:
        return prefix + body[:1] + "*"
    if len(body) <= 4:
        return prefix + body[0] + "**" + body[-1]
    return prefix + body[:2] + "***" + body[-2:]


def mask_identity(channel: str, external_id: str | None, display: str | None = None) -> str:
    """How a channel identity appears in the console: masked number for sms/voice, masked handle or
    name for Telegram (the numeric Telegram id is not shown at all)."""
    if channel in ("sms", "voice"):
        return mask_phone(external_id)
    if channel == "telegram":
        return mask_handle(display) if display else "Telegram"
    return mask_handle(display) if display else channel


def mask_text(text: str | None) -> str:
    """A message's text with phone numbers and @handles inside it masked."""
    if not text:
        return ""
    text = _PHONE_IN_TEXT.sub(lambda m: mask_phone(m.group(0)) if _is_phone(m.group(0)) else m.group(0), text)
    return _HANDLE_IN_TEXT.sub(lambda m: mask_handle(m.group(0)), text)


def mask_in_place(text: str | None) -> str:
    """Like :func:`mask_text` but every character keeps its position (hidden ones become ``*``), so
    the result can be cut at offsets computed on the original — a number split across two pieces
    (``1381234 567#楼`` with ``567#楼`` matched as an address) is still masked as one number."""
    if not text:
        return ""
    text = _PHONE_IN_TEXT.sub(lambda m: mask_phone(m.group(0)) if _is_phone(m.group(0)) else m.group(0), text)

    def handle(match: re.Match[str]) -> str:
        value = match.group(0)
        return value[:3] + "*" * (len(value) - 5) + value[-2:] if len(value) > 5 else value[:2] + "*" * (len(value) - 2)

    return _HANDLE_IN_TEXT.sub(handle, text)


def has_contact_details(text: str | None) -> bool:
    """Whether ``text`` contains something :func:`mask_text` hides (then a reveal button is offered)."""
    if not text:
        return False
    return any(_is_phone(m.group(0)) for m in _PHONE_IN_TEXT.finditer(text)) or bool(_HANDLE_IN_TEXT.search(text))


def _is_phone(candidate: str) -> bool:
    # Ten digits or more: mobiles (11), landlines with area code, E.164; not dates or house numbers.
    return sum(ch.isdigit() for ch in candidate) >= 10
