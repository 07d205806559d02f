"""The roster's vocabulary: household tags and room keys (``3-2-501`` = building 3, unit 2, room 501)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from gridline.i18n import LANGUAGES, has
from gridline.i18n.phrases import Phrase, render
from gridline.settings import Settings

# "3-2-501", "3－2－501", "3号楼2单元501", "3栋2单元501室", "3-501" (no unit), "501".
_DASHED = re.compile(r"^(?:(?P<b>[0-9A-Za-z]+)-)?(?:(?P<u>[0-9A-Za-z]+)-)?(?P<r>[0-9A-Za-z]+)$")
_WORDED = re.compile(
    r"^(?:(?P<b>[0-9A-Za-z]+)\s*(?:号楼|栋|幢|号|楼))?\s*(?:(?P<u>[0-9A-Za-z]+)\s*单元)?\s*(?P<r>[0-9A-Za-z]+)\s*(?:室|户|号)?$"
)


@dataclass(frozen=True, order=True)
class RoomKey:
    building: str
    unit: str
    room: str

    @classmethod
    def parse(cls, text: str) -> RoomKey | None:
        """A room key from what a grid worker types; None when it is not one."""
        folded = unicodedata.normalize("NFKC", text).strip().replace("—", "-").replace("–", "-")
        for pattern in (_DASHED, _WORDED):
            match = pattern.match(folded)
            if match:
                building, unit = match.group("b") or "", match.group("u") or ""
                if building and not unit and pattern is _DASHED:
                    return cls(building, "", match.group("r"))
                return cls(building, unit, match.group("r"))
        return None

    def __str__(self) -> str:
        return "-".join(part for part in (self.building, self.unit, self.room) if part)


def known_tags(settings: Settings) -> list[str]:
    return [*settings.roster.tags, *(code for code in settings.roster.custom_tags if code not in settings.roster.tags)]


def tag_label(settings: Settings, code: str, lang: str) -> str:
    return render(tag_phrase(settings, code, lang), lang)


def tag_phrase(settings: Settings, code: str, lang: str) -> Phrase | str:
    """A tag as said to ``lang``: the catalogue's (独居老人 …), or a configured custom tag's own
    words in that language (settings data, not catalogue text), else its code."""
    custom = settings.roster.custom_tags.get(code)
    if custom:
        return custom.get(lang) or next(iter(custom.values()), code)
    key = f"roster.tag.{code}"
    return Phrase(key) if has(key) else code


def tag_code(settings: Settings, given: str) -> str | None:
    """The tag code for a code or a label in any language (importers accept both); None if unknown."""
    wanted = unicodedata.normalize("NFKC", given).strip()
    for code in known_tags(settings):
        if wanted == code or wanted in {tag_label(settings, code, lang) for lang in LANGUAGES}:
            return code
    return None
