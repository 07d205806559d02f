"""Phone numbers as Gridline stores them: E.164, parsed with ``phonenumbers``."""

from __future__ import annotations

import phonenumbers


def to_e164(raw: str | None, default_region: str = "CN") -> str | None:
    """``raw`` as E.164 (``+8613800000001``), or None if it is not a plausible phone number.

    Residents and staff files write numbers every way (``138 0000 0001``, ``0086-138...``,
    ``+86 138...``); Twilio sends E.164. Comparing them only works once both are normalised.
    """
    if not raw:
        return None
    text = raw.strip()
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, default_region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
