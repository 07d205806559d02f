"""The one message catalogue: every text a person reads, in zh-CN and en.

Each area keeps its texts in its own file ``gridline/i18n/<area>.toml`` (core, telegram, twilio,
console, ...), so that areas do not edit one another's files. A message is a table with one string per
language, written as nested tables::

    [case.created]
    zh-CN = "已受理，编号 {ref}"
    en = "Received, reference {ref}"

and looked up as ``t("case.created", "en", ref="A1B2")``. A missing language falls back to zh-CN; a
missing key raises, so a typo fails the test that exercises it.
"""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any

LANGUAGES = ("zh-CN", "en")
DEFAULT_LANGUAGE = "zh-CN"
_HERE = Path(__file__).parent


def normalise_language(lang: str | None) -> str:
    """Map whatever a provider or a user says (``zh``, ``zh-hans``, ``en-US``) to a catalogue language."""
    if not lang:
        return DEFAULT_LANGUAGE
    lowered = lang.lower()
    if lowered.startswith("en"):
        return "en"
    return DEFAULT_LANGUAGE


def _flatten(prefix: str, table: dict[str, Any], out: dict[str, dict[str, str]], source: Path) -> None:
    if any(lang in table for lang in LANGUAGES):
        if DEFAULT_LANGUAGE not in table:
            raise ValueError(f"{source}: message {prefix!r} has no {DEFAULT_LANGUAGE} text")
        if prefix in out:
            raise ValueError(f"{source}: message {prefix!r} is defined twice")
        out[prefix] = {k: v for k, v in table.items() if k in LANGUAGES}
        return
    for key, value in table.items():
        if isinstance(value, dict):
            _flatten(f"{prefix}.{key}" if prefix else key, value, out, source)


@lru_cache(maxsize=1)
def catalogue() -> dict[str, dict[str, str]]:
    """All messages from every ``*.toml`` file beside this module."""
    out: dict[str, dict[str, str]] = {}
    for path in sorted(_HERE.glob("*.toml")):
        with path.open("rb") as fh:
            _flatten("", tomllib.load(fh), out, path)
    return out


def t(key: str, lang: str | None = None, /, **params: Any) -> str:
    """The text of message ``key`` in ``lang``, with ``{placeholders}`` filled from ``params``."""
    entry = catalogue().get(key)
    if entry is None:
        raise KeyError(f"no message {key!r} in the catalogue")
    text = entry.get(normalise_language(lang)) or entry[DEFAULT_LANGUAGE]
    return text.format(**params) if params else text


def has(key: str) -> bool:
    return key in catalogue()
