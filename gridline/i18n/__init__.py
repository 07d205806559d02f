"""The one message catalogue: every text a person reads, in zh-CN and en.

Each area keeps its texts in its own file ``gridline/i18n/<area>.toml`` (core, telegram, twilio,
console, ...), so that areas do not edit one another's files. A message is a table with one string per
language, written as nested tables::

    [case.created]
    zh-CN = "已受理，编号 {ref}"
    en = "Received, reference {ref}"

and looked up as ``t("case.created", "en", ref="A1B2")``. A missing language falls back to zh-CN; a
missing key raises, so a typo fails the test that exercises it. A list or tuple parameter is joined
with the language's list separator (``、`` / ``, ``), so callers hand over names, not sentences.

No Python module outside this package holds CJK text (``tests/test_catalogue_only_text.py``).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any


class Language(StrEnum):
    """A language the catalogue speaks (the values are the BCP 47 tags stored on people and messages)."""

    ZH_CN = "zh-CN"
    EN = "en"


LANGUAGES: tuple[Language, ...] = tuple(Language)
# The catalogue's own fallback: every message has zh-CN text. A deployment's default for people whose
# language is unknown is ``settings.default_language``.
DEFAULT_LANGUAGE = Language.ZH_CN
_HERE = Path(__file__).parent

# Han ideographs (CJK Unified Ideographs): "is this Chinese text?" for the places that must tell.
HAN = re.compile("[\u4e00-\u9fff]")


def normalise_language(lang: str | None) -> Language:
    """Map whatever a provider or a user says (``zh``, ``zh-hans``, ``en-US``) to a catalogue language."""
    if not lang:
        return DEFAULT_LANGUAGE
    lowered = lang.lower()
    if lowered.startswith("en"):
        return Language.EN
    return DEFAULT_LANGUAGE


_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")


def language_of_text(text: str | None) -> Language | None:
    """The language a text is plainly written in: Han characters → zh-CN, Latin words and no Han → en;
    mostly English words around a Chinese address → en.

    For channels that carry no language (an SMS, a phone number): a stranger who texts in English is
    answered in English from the first reply. Digits, codes and emoji say nothing (None).
    """
    if not text:
        return None
    han, words = len(HAN.findall(text)), len(_LATIN_WORD.findall(text))
    # An English sentence naming a Chinese address ("no water at 颍河路56号院 building 2") is
    # English; a Chinese one with a word or two of English ("Tongbai Road 199 停水了") is Chinese.
    if han and not (words >= 3 and 2 * words > han):
        return Language.ZH_CN
    return Language.EN if words else None


def other_language(lang: str | None) -> Language:
    """The language a "switch language" toggle offers: English from Chinese, Chinese from English."""
    return Language.EN if normalise_language(lang) == Language.ZH_CN else Language.ZH_CN


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
    language = normalise_language(lang)
    text = entry.get(language) or entry[DEFAULT_LANGUAGE]
    if not params:
        return text
    joined = {k: join(v, language) if isinstance(v, list | tuple) else v for k, v in params.items()}
    return text.format(**joined)


def join(items: Iterable[object], lang: str | None = None) -> str:
    """``items`` as one list in ``lang``: ``张三、李四`` / ``Zhang San, Li Si``."""
    return t("list.separator", lang).join(str(item) for item in items)


WEEKDAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def weekday(index: int, lang: str | None = None) -> str:
    """The short name of weekday ``index`` (Monday = 0, as ``date.weekday()``): ``周四`` / ``Thu``."""
    return t(f"weekday.{WEEKDAY_KEYS[index]}", lang)


def has(key: str) -> bool:
    return key in catalogue()
