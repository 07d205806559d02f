"""The staff grammar of the department loop and of extensions, one text each (docs/departments.md).

``转办12 说明`` / ``转办 W4RGMD 说明`` (transfer the case of page code 12, or case W4RGMD), ``签收12``
(accept), ``回单12 已修复`` (reply with the result), ``退单12 2 说明`` (return it, reason number 2),
``通过12`` / ``驳回12 意见`` (review a reply), ``延期12 3 理由`` (ask for 3 working days more; ``48h``
for hours), ``同意12`` / ``不同意12 意见`` (decide an extension). English: ``transfer``, ``accept``,
``reply``, ``return``, ``approve``, ``reject``, ``extend``, ``grant``, ``refuse``; the code may also
come first (``12签收``). A reference is written in capitals, as Gridline prints it. The words live
in the catalogue (``loop.grammar.*``); full-width characters do not matter.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

from gridline.i18n import LANGUAGES, t

LANGS = LANGUAGES
LoopVerb = Literal["transfer", "accept", "reply", "return", "approve", "reject", "extend", "grant", "refuse"]
VERB_NAMES: tuple[LoopVerb, ...] = (
    "transfer", "accept", "reply", "return", "approve", "reject", "extend", "grant", "refuse",
)  # fmt: skip


def _words(key: str) -> list[str]:
    return [w.strip().lower() for lang in LANGS for w in t(key, lang).split("|") if w.strip()]


VERBS: dict[str, LoopVerb] = {word: verb for verb in VERB_NAMES for word in _words(f"loop.grammar.{verb}")}
# A Latin verb is a word of its own ("accept 12", not "acceptable"); a Chinese one may run on ("转办W4RGMD").
_LATIN = "|".join(sorted((re.escape(v) for v in VERBS if v.isascii()), key=len, reverse=True))
_OTHER = "|".join(sorted((re.escape(v) for v in VERBS if not v.isascii()), key=len, reverse=True))
_VERB = rf"(?:{_OTHER})|(?:(?:{_LATIN})(?![a-z]))"
_REF = r"[A-HJ-KM-NP-Z2-9]{6}"  # routing.cases.REF_ALPHABET, in capitals
_CODE = r"\d{1,4}"
_TAIL = r"\s*(?P<rest>.*)$"
_VERB_FIRST = re.compile(rf"^(?P<verb>{_VERB})\s*(?:(?P<ref>{_REF})(?![A-Za-z0-9])|(?P<code>{_CODE}))?{_TAIL}",
                         re.DOTALL | re.IGNORECASE)  # fmt: skip
_CODE_FIRST = re.compile(rf"^(?P<code>{_CODE})\s*(?P<verb>{_VERB}){_TAIL}", re.DOTALL | re.IGNORECASE)


@dataclass(frozen=True)
class LoopText:
    """A parsed loop text: the verb, which case (a page code, a reference, or neither = the latest
    page to this phone) and the rest (a note, a result, a reason number and note, days and reason)."""

    verb: LoopVerb
    code: int | None = None
    ref: str | None = None
    rest: str = ""
    channel: str = ""  # where it came from, when not the page's own channel (a Telegram command)

    def first_and_rest(self) -> tuple[str, str]:
        """The first word of the rest (a reason number, an amount) and what follows it."""
        head, _, tail = self.rest.partition(" ")
        return head.strip(), tail.strip()


def parse_loop_text(text: str | None) -> LoopText | None:
    """The loop action a staff text asks for, or None when it is not one (then the other grammars apply)."""
    if not text:
        return None
    folded = unicodedata.normalize("NFKC", text).strip()
    match = _VERB_FIRST.match(folded) or _CODE_FIRST.match(folded)
    if match is None:
        return None
    groups = match.groupdict()
    verb = VERBS[groups["verb"].lower()]
    ref = groups.get("ref")
    if ref is not None and ref != ref.upper():
        # Lower case: a word, not a reference ("reply repair done" → the rest).
        return LoopText(verb, None, None, folded[match.start("ref"):].strip())
    code = int(groups["code"]) if groups.get("code") else None
    return LoopText(verb, code, ref, (groups.get("rest") or "").strip())
