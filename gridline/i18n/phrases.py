"""Phrases: a catalogue key and its facts, rendered where the text is read (render at the edge).

The core says *what* to tell a person — ``Phrase("case.created", {"ref": "W4RGMD", "category":
Phrase("category.water_supply")})`` — and each channel says it its own way: the same key rendered
as typed (Telegram, web, SMS) or through a channel's variant of the key (the voice hotline speaks
``twilio.voice.ask_address`` where a typed channel shows ``registration.ask_location``).

A parameter is a plain value (text, a number), a nested :class:`Phrase` (a category's label, a
status), a list (joined with the language's separator, as :func:`gridline.i18n.t` joins lists),
:class:`Lines` (one item a line) or :class:`Spaced` (items a space apart). Phrases travel in JSON
(the outbound ``Message`` row keeps the key and the facts beside the rendered text): :func:`to_json`
/ :func:`from_json` are each other's inverse.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from gridline.i18n import join, t

# A channel's variant of a key (``VOICE_VARIANTS.get``): the key to render instead, or None.
Variant = Callable[[str], str | None]


@dataclass(frozen=True)
class Phrase:
    """Catalogue message ``key`` with its facts ``params``."""

    key: str
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Lines:
    """Facts said one a line (the open cases of a status answer)."""

    items: tuple[Any, ...]


@dataclass(frozen=True)
class Spaced:
    """Facts said one after another a space apart, on one line (``1 非本部门职责 2 证据不足``)."""

    items: tuple[Any, ...]


# Two keys of the catalogue that word nothing themselves: text kept as a person wrote it (a stored
# label from before options carried phrases), and a message that is its lines (a digest).
AS_WRITTEN = "text.as_written"
LINES = "text.lines"


def as_written(text: str) -> Phrase:
    """``text`` as a phrase, said as it was written (never translated)."""
    return Phrase(AS_WRITTEN, {"text": text})


def lines(items: Iterable[Any]) -> Phrase:
    """A message made of ``items``, one a line (each a phrase or a fact)."""
    return Phrase(LINES, {"lines": Lines(tuple(items))})


def _no_variant(key: str) -> str | None:
    return None


def render(value: Any, lang: str | None, variant: Variant = _no_variant) -> str:
    """``value`` as text in ``lang``: a phrase through the catalogue (or its channel ``variant``),
    lines one a line, a list joined with the language's separator, anything else as ``str``."""
    if isinstance(value, Phrase):
        key = variant(value.key) or value.key
        params = {name: render(param, lang, variant) for name, param in value.params.items()}
        return t(key, lang, **params)
    if isinstance(value, Lines):
        return "\n".join(render(item, lang, variant) for item in value.items)
    if isinstance(value, Spaced):
        return " ".join(render(item, lang, variant) for item in value.items)
    if isinstance(value, list | tuple):
        return join((render(item, lang, variant) for item in value), lang)
    return str(value)


def to_json(value: Any) -> Any:
    """``value`` as JSON: a phrase ``{"key", "params"}``, lines ``{"lines": [...]}`` (spaced:
    ``{"spaced": [...]}``), lists as lists."""
    if isinstance(value, Phrase):
        return {"key": value.key, "params": {name: to_json(p) for name, p in value.params.items()}}
    if isinstance(value, Lines):
        return {"lines": [to_json(item) for item in value.items]}
    if isinstance(value, Spaced):
        return {"spaced": [to_json(item) for item in value.items]}
    if isinstance(value, list | tuple):
        return [to_json(item) for item in value]
    return value


def from_json(value: Any) -> Any:
    """The value :func:`to_json` wrote."""
    if isinstance(value, dict) and "key" in value:
        return Phrase(value["key"], {name: from_json(p) for name, p in (value.get("params") or {}).items()})
    if isinstance(value, dict) and "lines" in value:
        return Lines(tuple(from_json(item) for item in value["lines"]))
    if isinstance(value, dict) and "spaced" in value:
        return Spaced(tuple(from_json(item) for item in value["spaced"]))
    if isinstance(value, list):
        return [from_json(item) for item in value]
    return value


def params_to_json(params: Mapping[str, Any]) -> dict[str, Any]:
    """A phrase's facts as JSON (what the outbound message row keeps)."""
    return {name: to_json(value) for name, value in params.items()}


def params_from_json(params: Mapping[str, Any] | None) -> dict[str, Any]:
    return {name: from_json(value) for name, value in (params or {}).items()}
