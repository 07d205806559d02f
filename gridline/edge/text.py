"""Texts from outside: control characters out, and digits read the way the resident meant them."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

# C0 and C1 controls except tab, newline and carriage return, plus lone surrogates (json.loads lets
# "\ud800" through and PostgreSQL refuses it) and the two non-characters U+FFFE/U+FFFF.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_ASCII_INT = re.compile(r"[0-9]{1,18}")
# What in a JSON text could decode to one of _CONTROL's characters: one of them as it is, or an
# escape that may spell one (``\b``, ``\f``, ``\u00XX``, a surrogate, ``\uFFFE``/``\uFFFF``). It also
# matches harmless text (``\u00e9``, an escaped backslash before a ``b``): that only costs the cleaning.
_MAYBE_CONTROL = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]"
    r"|\\(?:[bf]|u00[0-9a-fA-F]{2}|u[dD][89a-fA-F]|u[fF]{3}[eEfF])"
)


def clean_text(value: str) -> str:
    """``value`` without NUL and the other control characters no person types (PostgreSQL refuses NUL)."""
    return _CONTROL.sub("", value)


def json_text_is_clean(text: str) -> bool:
    """True when nothing parsed from the JSON ``text`` can hold a character :func:`clean_text`
    removes, so :func:`clean_payload` would return it unchanged (one scan of the text instead of a
    walk over every string of the parsed value: a webhook's hot path)."""
    return _MAYBE_CONTROL.search(text) is None


def clean_payload(value: Any, *, max_depth: int = 64) -> Any:
    """A JSON-like value with every string (keys too) cleaned; deeper than ``max_depth`` is cut off.

    Only used on payloads that were already depth-checked, so the cut is a safety net, not a rule.
    """
    if isinstance(value, str):
        return clean_text(value)
    if max_depth <= 0:
        return None
    if isinstance(value, dict):
        return {clean_text(str(k)): clean_payload(v, max_depth=max_depth - 1) for k, v in value.items()}
    if isinstance(value, list):
        return [clean_payload(v, max_depth=max_depth - 1) for v in value]
    return value


def choice_number(text: str) -> int | None:
    """The option number a one-character answer means, or None.

    ``1``, the full-width ``１`` and the circled ``①`` (what Chinese keyboards offer for a numbered
    choice) all mean 1; a superscript ``²`` or a fraction is not an answer to a numbered question.
    """
    if len(text) != 1:
        return None
    decimal = unicodedata.decimal(text, None)
    if decimal is not None:
        return decimal
    name = unicodedata.name(text, "")
    if "CIRCLED" in name or "PARENTHESIZED" in name or name.endswith("FULL STOP"):
        value = unicodedata.digit(text, None)
        if value is None:
            numeric = unicodedata.numeric(text, None)
            value = int(numeric) if numeric is not None and numeric == int(numeric) else None
        return value
    return None


def ascii_int(value: str | None, *, lowest: int = 0, highest: int = 2**63 - 1) -> int | None:
    """A non-negative integer written in ASCII digits within ``lowest..highest``, else None.

    ``str.isdigit`` accepts ``²`` and ``①`` and ``int`` then refuses them; providers and query strings
    only ever send ASCII digits, so nothing else is a number here.
    """
    if value is None:
        return None
    value = value.strip()
    if not _ASCII_INT.fullmatch(value):
        return None
    number = int(value)
    return number if lowest <= number <= highest else None
