"""One message, several problems: 「楼道里漏水，还有车堵门」 is a leak *and* a car blocking the door.

:func:`split_clauses` cuts a message only where the resident says another matter begins — a
sentence end (。！？；, a newline, an English full stop) or a join word at the start of a clause
(还有, 另外, 另一个, 再就是, 顺便说一下, 此外, 对了, 同时…也; "also", "plus", "and another thing") —
never at a plain comma inside one problem's description (「水管爆了，水漫到楼道里了」 stays whole).
The join word itself is left out of the clause.

:func:`problems_in` takes the clauses as the NLU read them and says which problems the message
names: a clause the model is sure is an issue category starts a problem of that category (at most
:data:`MOST_PROBLEMS`); a clause of a category named already goes with it; a clause that is no
confident problem (「已经三天了」, 「麻烦尽快」) goes with the problem before it (the first one when it
comes first), and so does one over the limit. Fewer than two problems: the message is one problem,
filed whole as before (``core.conversation.several``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from gridline.nlu.types import NluResult

MOST_PROBLEMS = 3  # cases one message may open: more is rarely meant, and each pages someone
MOST_CLAUSES = 6  # clauses classified (each one is an NLU call); the rest goes with the last

# A sentence ends: 。！？；, a newline, or an English full stop after a letter ("3.5" is no end).
_SENTENCE_END = re.compile(r"[。！？!?；;\n\r]+|(?<=[A-Za-z])\.(?=\s|$)")

# Chinese join words that open another matter, at the start of a clause (after punctuation, a space,
# or the start of a sentence). Longest first, so 还有就是 is taken whole, not as 还有.
_CJK_JOINS = (
    "还有一个问题是", "另一个问题是",
    "还有一个问题", "还有一件事", "还有就是", "还有一个", "还有个", "另外还有", "另外就是", "另一个问题", "另一件事",
    "另一个", "再就是", "再有就是", "再一个", "顺便说一下", "顺便说下", "顺便说一句", "顺便提一下", "顺便反映一下",
    "顺便反映", "除此之外", "除此以外", "此外", "对了", "另外",
)  # fmt: skip
# 还有 opens another matter, except where it says "still": 还有人在里面, 还有没有人管, 还有点味, 还有多久.
_STILL = "人没点些多几"
_CJK_JOIN = re.compile(
    r"(?<![^，,、：:\s])(?:" + "|".join(map(re.escape, _CJK_JOINS)) + rf"|还有(?![{_STILL}])|同时(?=[^，,]*?[也还]))"
)
# English joins: "also" / "plus" / "besides" after a comma (or at a sentence start); "and also",
# "and another thing", "another thing is" anywhere between words.
_LATIN_JOIN = re.compile(
    r"(?:^|(?<=[,;:，]))\s*(?:also|plus|besides)\b"
    r"|\b(?:and also|and another thing|another thing is|and one more thing|one more thing)\b",
    re.IGNORECASE,
)
_EDGES = " \t\r\n，,、：:；;。.！!？?~～…-—"


def split_clauses(text: str) -> list[str]:
    """The clauses of ``text`` at the joins that open another matter, without the join words
    (at most :data:`MOST_CLAUSES`; one clause, the text as it is, when there is no such join)."""
    clauses: list[str] = []
    start = 0
    for end_mark in [*_SENTENCE_END.finditer(text), None]:
        end = end_mark.start() if end_mark is not None else len(text)
        clauses.extend(_at_joins(text[start:end]))
        start = end_mark.end() if end_mark is not None else len(text)
    clauses = [c for c in clauses if c]
    if len(clauses) > MOST_CLAUSES:
        clauses = [*clauses[: MOST_CLAUSES - 1], joined(clauses[MOST_CLAUSES - 1 :])]
    return clauses if len(clauses) > 1 else [text.strip()]


def _at_joins(sentence: str) -> list[str]:
    """One sentence cut where a join word begins a clause, each part without its join word."""
    cuts = sorted(
        [(m.start(), m.end()) for m in _CJK_JOIN.finditer(sentence)]
        + [(m.start(), m.end()) for m in _LATIN_JOIN.finditer(sentence)]
    )
    parts, start = [], 0
    for begin, end in cuts:
        if begin < start:
            continue  # inside a join already taken
        parts.append(sentence[start:begin])
        start = end
    parts.append(sentence[start:])
    return [p.strip(_EDGES) for p in parts]


def joined(clauses: Sequence[str]) -> str:
    """Clauses as one text again: 「停水了；已经三天了」 ("no water; for three days" in English)."""
    cjk = any("\u4e00" <= ch <= "\u9fff" for c in clauses for ch in c)
    return ("；" if cjk else "; ").join(clauses)


@dataclass
class Problem:
    """One problem a message names: its category, the first clause the model read as it (its
    confidence and entities decide the case), and every clause that goes with it."""

    category: str
    nlu: NluResult
    clauses: list[str] = field(default_factory=list)

    @property
    def summary(self) -> str:
        """What the case says the problem is: its own clauses."""
        return joined(self.clauses)


def problems_in(understood: Sequence[NluResult], threshold: float, most: int = MOST_PROBLEMS) -> list[Problem]:
    """The problems a message names, one per category, from its clauses as the NLU read them
    (``NluResult.text`` is the clause); fewer than two: it names one (see the module docstring)."""
    problems: list[Problem] = []
    waiting: list[str] = []  # clauses before the first problem
    last: Problem | None = None  # the problem the clause before was about
    for clause in understood:
        text = clause.text.strip()
        if not text:
            continue
        sure = clause.is_issue and clause.confidence >= threshold
        same = next((p for p in problems if p.category == clause.intent), None) if sure else None
        if same is None and sure and len(problems) < most:
            same = Problem(clause.intent, clause, [])
            problems.append(same)
        last = same or last
        if last is not None:
            last.clauses.append(text)
        else:
            waiting.append(text)
    if len(problems) < 2:
        return []
    problems[0].clauses[:0] = waiting
    return problems
