"""Why a page or a message did not get through, as a supervisor reads it.

The stored error is the provider's own words or Gridline's note (``twilio 400 21610 Attempt to send
to unsubscribed recipient``, ``twilio undelivered (error 30007)``, ``Forbidden: bot was blocked by
the user``, ``call no-answer``, ``recipient opted out (STOP)`` …): English, for logs and for whoever
debugs the provider. The console shows what it means from the catalogue (``console.delivery_error.*``)
with the provider's code beside it, and keeps the raw text for a title.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Twilio's error codes (https://www.twilio.com/docs/api/errors) that a page or reply meets.
TWILIO_CODES = {
    "21610": "opted_out",
    "21211": "bad_number", "21217": "bad_number", "21614": "bad_number", "30005": "bad_number",
    "21612": "cannot_route", "21408": "region",
    "30003": "unreachable", "30006": "landline",
    "30004": "filtered", "30007": "filtered",
    "20003": "provider_auth", "20429": "rate_limited", "14107": "rate_limited",
}  # fmt: skip

# Gridline's own notes and the other providers' words, matched in order (case-insensitive).
_RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), reason)
    for pattern, reason in (
        (r"opted out|unsubscribed", "opted_out"),
        (r"not a phone number|invalid .*number", "bad_number"),
        (r"automatic reply cap", "reply_cap"),
        (r"^twilio unreachable|timed out|timeout|network|connection", "network"),
        (r"^call answered by (machine|fax)", "machine"),
        (r"^call busy", "call_busy"),
        (r"^call no-answer", "call_no_answer"),
        (r"^call canceled", "call_canceled"),
        (r"^call failed", "call_failed"),
        (r"bot was blocked by the user", "telegram_blocked"),
        (r"user is deactivated", "telegram_deactivated"),
        (r"chat not found|bot can't initiate conversation|have no rights to send", "telegram_no_chat"),
        (r"too many requests|flood control|retry after", "rate_limited"),
        (r"no telegram bot named", "no_bot"),
        (r"no notifier for channel", "no_channel"),
        (r"^render:", "render"),
        (r"push refused: (404|410)", "push_gone"),
    )
)
_TWILIO_CODE = re.compile(r"\b([1-9]\d{4})\b")


@dataclass(frozen=True)
class DeliveryError:
    """A stored delivery error read: ``reason`` (a ``console.delivery_error.*`` key), the provider's
    code when it gave one, and the raw text."""

    reason: str
    code: str | None
    raw: str


def read_delivery_error(error: str) -> DeliveryError:
    """What a stored delivery error means (``unknown`` when nothing says)."""
    code = None
    if error.lower().startswith("twilio"):
        found = _TWILIO_CODE.search(error)
        code = found.group(1) if found else None
        if code in TWILIO_CODES:
            return DeliveryError(TWILIO_CODES[code], code, error)
    for pattern, reason in _RULES:
        if pattern.search(error):
            return DeliveryError(reason, code, error)
    return DeliveryError("unknown", code, error)
