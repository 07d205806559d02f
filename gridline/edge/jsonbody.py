"""JSON bodies within limits: the nesting depth is counted before ``json.loads`` recurses into it."""

from __future__ import annotations

import json
import re
from itertools import accumulate
from typing import Any

# Real provider payloads nest a handful of levels (a Telegram reply to a message with an entity is
# about eight); 32 leaves room for any of them and stays far from Python's recursion limit.
MAX_JSON_DEPTH = 32

_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


class BadJson(ValueError):
    """The body is not JSON, or is nested deeper than allowed."""


def json_depth(body: bytes) -> int:
    """The deepest nesting of arrays and objects in ``body`` (strings' contents do not count)."""
    brackets = _STRING.sub(b"", body).translate(None, delete=_NOT_BRACKET)
    return max(accumulate(_STEP[b] for b in brackets), default=0)


def load_json(body: bytes, *, max_depth: int = MAX_JSON_DEPTH, text: str | None = None) -> Any:
    """``json.loads(body)``, refusing bodies nested deeper than ``max_depth`` before parsing them."""
    # Fewer brackets than the limit cannot nest deeper than it: two C-speed counts instead of the
    # scan (a webhook's update has a handful).
    if body.count(b"[") + body.count(b"{") > max_depth and json_depth(body) > max_depth:
        raise BadJson(f"JSON nested deeper than {max_depth} levels")
    try:
        return json.loads(body if text is None else text)  # ``text``: the body already decoded (UTF-8)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise BadJson(str(exc)) from exc
