"""How a grid worker logs a visit in one text: ``走访 3-2-501 正常``, ``走访 3-2-501 有问题 楼道灯坏``.

English: ``visit 3-2-501 ok``, ``visit 3-2-501 problem hallway light broken``. The room is a
:class:`~gridline.routing.roster.RoomKey` as grid workers write it (``3-2-501``, ``3号楼2单元501``),
in the sender's own grid. Anything after the verdict is the note (for a problem, what was found).
Full-width characters and case do not matter.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

from gridline.i18n import LANGUAGES, t
from gridline.routing.roster import RoomKey

LANGS = LANGUAGES


def _words(key: str) -> list[str]:
    """The words of a grammar entry in every language (the catalogue keeps them: ``a|b``)."""
    return [w.strip().lower() for lang in LANGS for w in t(key, lang).split("|") if w.strip()]


KEYWORDS = tuple(_words("visits.grammar.keyword"))
VERDICTS: dict[str, Literal["ok", "problem"]] = {
    **{w: "ok" for w in _words("visits.grammar.ok")},
    **{w: "problem" for w in _words("visits.grammar.problem")},
}
_KEYWORD = "|".join(sorted((re.escape(k) for k in KEYWORDS), key=len, reverse=True))
_VERDICT = "|".join(sorted((re.escape(v) for v in VERDICTS), key=len, reverse=True))
_LOG = re.compile(
    rf"^(?:{_KEYWORD})\s*(?P<room>[^\s]+?)\s*(?P<verdict>{_VERDICT})(?:\s+(?P<note>.*))?$", re.DOTALL | re.IGNORECASE
)
_STARTS = re.compile(rf"^(?:{_KEYWORD})", re.IGNORECASE)


@dataclass(frozen=True)
class VisitText:
    """A parsed visit log; ``room`` is None when the room part is not a room key (``error``)."""

    room: RoomKey | None
    outcome: Literal["ok", "problem"] | None
    note: str = ""
    room_text: str = ""
    error: str | None = None  # no_room | bad_room | no_verdict


def is_visit_text(text: str | None) -> bool:
    """Whether the text starts with the visit keyword (then it is answered as a visit log, right or wrong)."""
    if not text:
        return False
    folded = unicodedata.normalize("NFKC", text).strip().lower()
    for keyword in KEYWORDS:
        if folded.startswith(keyword):
            rest = folded[len(keyword):]
            # A Latin keyword is a word of its own ("visit 3-2-501", not "visitors").
            if not keyword.isascii() or not rest or not rest[0].isalpha():
                return True
    return False


def parse_visit_text(text: str) -> VisitText:
    """The visit a text logs, or what is wrong with it (see the module docstring)."""
    folded = unicodedata.normalize("NFKC", text).strip()
    match = _LOG.match(folded)
    if match is None:
        rest = _STARTS.sub("", folded).strip()
        if not rest:
            return VisitText(None, None, error="no_room")
        first = rest.split()[0]
        room = RoomKey.parse(first)
        if room is None:
            return VisitText(None, None, room_text=first, error="bad_room")
        return VisitText(room, None, room_text=first, error="no_verdict")
    room_text = match.group("room")
    room = RoomKey.parse(room_text)
    if room is None:
        return VisitText(None, None, room_text=room_text, error="bad_room")
    verdict = VERDICTS[match.group("verdict").lower()]
    return VisitText(room, verdict, (match.group("note") or "").strip(), room_text)
