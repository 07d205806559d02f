"""Explanations rendered in the reader's language (``gridline.domain.explanations``).

An entry written before reasons were codes carries an English ``reason`` sentence; it is shown as
it is, so old cases still explain themselves.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from string import Formatter
from typing import Any

from gridline.i18n import catalogue, has, join, t


def _placeholders(params: Mapping[str, Any], lang: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in params.items():
        if key in ("previous", "intent", "guess", "category") and has(f"category.{value}"):
            value = t(f"category.{value}", lang)
        elif key == "at" and isinstance(value, str):
            value = _moment(value)
        elif isinstance(value, float):
            value = f"{value:.2f}"
        elif isinstance(value, list):
            value = join((str(v) for v in value), lang)
        out[key] = "—" if value in (None, "") else value
    return out


def _moment(value: str) -> str:
    """``2026-12-01T22:00:48+08:00`` → ``12-01 22:00``, in the offset it was written with (the
    grid's local time for new entries)."""
    try:
        return f"{datetime.fromisoformat(value):%m-%d %H:%M}"
    except ValueError:
        return value


def reason_text(item: Mapping[str, Any] | str | None, lang: str) -> str:
    """The sentence of an explanation entry or of a page's ``why``; "" when it has none."""
    if item is None:
        return ""
    if isinstance(item, str):
        return item  # before reasons were codes
    code = item.get("code")
    key = f"explain.reason.{code}"
    if code and has(key):
        params = _placeholders(item.get("params") or {}, lang)
        # A fact the retention policy removed (a quoted address) shows as a dash.
        missing = {name: "—" for name in _fields(key) if name not in params}
        return t(key, lang, **params, **missing)
    return str(item.get("reason") or "")


def _fields(key: str) -> set[str]:
    entry = catalogue()[key]
    return {name for text in entry.values() for _, name, _, _ in Formatter().parse(text) if name}


def explain(entry: Mapping[str, Any], lang: str) -> str:
    """One explanation entry as a sentence, with the people a step reached and why."""
    text = reason_text(entry, lang)
    people = [p for p in entry.get("people") or [] if isinstance(p, Mapping)]
    if people:
        who = join((t("explain.person", lang, name=p.get("name", "?"), why=reason_text(p.get("why"), lang))
                    for p in people), lang)
        text = f"{text} {who}".strip()
    return text
