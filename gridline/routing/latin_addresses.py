"""Addresses written in pinyin and English words: ``Tongbai Road 199, building 3`` → ``桐柏路199号3栋``.

The English catalogue asks residents for an address "e.g. Tongbai Road 199, building 3", and
foreign residents, or a speech recogniser set to English, write road names in pinyin. Road names are
known in Chinese only, so each road of the directory is also keyed by the toneless pinyin of its
stem (``桐柏路`` → ``tongbai``); the Latin words of a text are rewritten into the Chinese form the
matcher already understands, and everything else is left as it was.
"""

from __future__ import annotations

import re

from gridline.nlu.text import pinyin_grams

_ROAD_WORDS = r"(?:road|rd|street|st|avenue|ave|boulevard|blvd|lane|ln|lu|jie|dadao)"
# "Tongbai Road 199", "Ying He Rd. No. 56-2", "Tongbailu 199"
_ROAD_THEN_NUMBER = re.compile(
    rf"\b(?P<name>[a-z]+(?:[ \-][a-z]+)?)[ ]?{_ROAD_WORDS}\b\.?,?\s*"
    r"(?:no\.?\s*|number\s*|#\s*)?(?P<number>\d+(?:-\d+)?)?"
)
# "199 Tongbai Road"
_NUMBER_THEN_ROAD = re.compile(rf"\b(?P<number>\d+(?:-\d+)?)\s+(?P<name>[a-z]+(?:[ \-][a-z]+)?)[ ]?{_ROAD_WORDS}\b\.?")
_BUILDING = re.compile(r"\b(?:building|bldg|block|blk|tower)\.?\s*(?:no\.?\s*)?(\d+)\b")
_UNIT = re.compile(r"\b(?:unit|entrance)\.?\s*(?:no\.?\s*)?(\d+)\b")
_ROOM = re.compile(r"\b(?:room|rm|apt|apartment|flat)\.?\s*(?:no\.?\s*)?(\d+)\b")
_LATIN = re.compile(r"[A-Za-z]")


def reads_as_latin_address(text: str) -> bool:
    """``Mars Road 8``, ``100 Kexue Avenue``: a road word with a house number, in Latin letters —
    an address in shape, whether or not the directory knows the road."""
    lowered = text.lower()
    return any(m.group("number") for m in _ROAD_THEN_NUMBER.finditer(lowered)) or bool(
        _NUMBER_THEN_ROAD.search(lowered)
    )


def pinyin_key(chinese: str) -> str:
    """``桐柏`` → ``tongbai``: the syllables of the Chinese characters, joined."""
    return "".join(g for g in pinyin_grams(chinese) if "_" not in g)


class LatinRoads:
    """The directory's roads by the pinyin of their stem, to rewrite Latin addresses into Chinese."""

    def __init__(self) -> None:
        self._roads: dict[str, str] = {}

    def add(self, road: str, stem: str) -> None:
        key = pinyin_key(stem)
        if len(key) >= 4:  # two syllables at least: "lu" alone must not become a road
            self._roads.setdefault(key, road)

    def rewrite(self, text: str) -> str:
        """``text`` with its pinyin road names, buildings, units and rooms in the Chinese form."""
        if not self._roads or not _LATIN.search(text):
            return text
        text = text.lower()
        text = _NUMBER_THEN_ROAD.sub(lambda m: self._road(m, m.group("number")), text)
        text = _ROAD_THEN_NUMBER.sub(lambda m: self._road(m, m.group("number")), text)
        text = _BUILDING.sub(r"\1栋", text)
        text = _UNIT.sub(r"\1单元", text)
        return _ROOM.sub(r"\1室", text)

    def _road(self, match: re.Match[str], number: str | None) -> str:
        words = re.split(r"[ \-]", match.group("name"))
        # "ying he road" is one name in two words; in "at tongbai road" only the last word is.
        road = self._roads.get("".join(words)) or self._roads.get(words[-1])
        if road is None:
            return match.group(0)
        return f"{road}{number}号 " if number else f"{road} "
