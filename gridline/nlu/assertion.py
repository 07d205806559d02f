"""What a resident asserts, with what they deny taken out: the text the classifier weighs.

A bag of n-grams cannot read 不是: in 「不是自来水，是暖气管漏的」 自来水 pulls towards ``water_supply``
as hard as it does in 「自来水停了」. Residents correct themselves in a few fixed shapes, and the
denied part names the category they are *not* reporting, so the classifier is given the text with
that part taken out (entities and priority still read the whole message):

* **a denial beside an assertion** — 「不是X，是Y」, 「不是X，而是Y」, 「是Y，不是X」, 「不是X是Y」: the
  clause from 不是 to its end (or to the 是 / 而是 that starts the assertion) goes;
* **a part said to be fine** — 「X没事，Y坏了」, 「水压正常，就是暖气不热」, 「电梯没问题，是楼道灯不亮」:
  a short clause that ends in 没事 / 没问题 / 正常 / 好好的 / 没坏 / 没堵 … goes.

What is never taken out: 是不是 (a question), 要不是 (if not for), 不是很 / 不是太 … (not very: 暖气不是很热
is a complaint), a clause ending in 吗 / 吧 (这不是欺负人吗), 不是X就是Y (either … or), 不正常, and a
clause that is all there is — if nothing with a word in it would be left, the text is kept whole
(「不是」, 「不是这个」 stay ``deny``). Training applies the same function to its examples, so the
model never learns from a denied part either.
"""

from __future__ import annotations

import re

from gridline.nlu.text import cjk_count

# Clause boundaries after normalise_for_classifier (NFKC has made ，；！？ half-width).
_CLAUSE = re.compile(r"([,.;!?。、…\n ]+)")
# 不是 that denies: not 是不是 / 要不是 / 倒不是说 …, not "not very" (不是很热).
_DENIAL = re.compile(
    r"(?<![是要])(?:并|也|又|根本|压根|倒)?不是(?!很|太|特别|非常|挺|一般|那么|这么|多么|一天|一两|一次|第一)"
)
# Inside one clause, the assertion that follows a denial: 不是自来水是暖气 / 不是自来水而是暖气.
_ASSERTION_INSIDE = re.compile(r"(?:而|其实|实际上?|应该)?是")
# A clause that says a part is fine (at most eight characters before the word, no 不 right before it).
_FINE = re.compile(
    r"^(?P<subject>.{1,8}?)(?:都|倒|还|也)?(?<!不)"
    r"(?:没事|没问题|没毛病|没坏|没堵|没停|没断|正常|好好的|好着呢|是好的)"
    r"(?:的|了|呢|啊|呀|哈|儿)*$"
)
# A denied part that names nothing: 这个, 那样, 这回事, 我说的.
_DEICTIC = re.compile(r"^[这那我你他她俺恁][个样种么回事说的儿]*$")
# The word that starts an assertion (是 / 就是 / 而是 / 但是 …): it says nothing about the category,
# and a bare 是 / 就是 leans towards ``affirm`` (「对，就是这个」).
_LEADING_ASSERTION = re.compile(r"^(?:但|可|而)?(?:就|倒|其实|实际上?|应该|只)?是(?!不是)")
_QUESTION_END = re.compile(r"[吗吧嘛么]$")
# What is kept must still say something (「是电梯」, 「停电了」); a shorter remainder keeps the whole text.
MIN_KEPT_CHARACTERS = 3


def _drop_denial(clause: str, has_other_clause: bool) -> str | None:
    """The clause with its denied part removed, or None when the clause is not a denial."""
    if _QUESTION_END.search(clause):
        return None
    match = _DENIAL.search(clause)
    if match is None:
        return None
    rest = clause[match.end() :]
    if not rest or "就是" in rest:  # a bare 不是 (deny), or 不是X就是Y (either … or)
        return None
    if _DEICTIC.match(rest):  # 不是这个，你们弄错了: nothing named, nothing to take out
        return None
    inside = _ASSERTION_INSIDE.search(rest, 1)
    if inside is not None:  # 不是自来水是暖气管漏的: keep the assertion
        return clause[: match.start()] + rest[inside.start() :]
    if has_other_clause:  # 不是自来水，是暖气管漏的 / 是暖气管漏的，不是自来水
        return clause[: match.start()]
    return None


def asserted_part(text: str) -> str:
    """``text`` (normalised for the classifier) without the parts the resident denies or calls fine."""
    pieces = _CLAUSE.split(text)
    clauses = pieces[0::2]
    if len(clauses) < 2 and "不是" not in text:
        return text
    content = [i for i, clause in enumerate(clauses) if cjk_count(clause) > 0]
    kept = list(clauses)
    changed = False
    for position, i in enumerate(content):
        others = len(content) > 1
        clause = clauses[i]
        dropped = _drop_denial(clause, others)
        if dropped is None and others and not _QUESTION_END.search(clause) and _FINE.match(clause):
            dropped = ""
        if dropped is not None:
            changed = True
            kept[i] = _LEADING_ASSERTION.sub("", dropped)
            if position + 1 < len(content):  # 「…，是暖气管漏的」 / 「…，就是暖气不热」: the assertion itself
                following = content[position + 1]
                kept[following] = _LEADING_ASSERTION.sub("", clauses[following])
    if not changed:
        return text
    result = "".join(k + (pieces[2 * n + 1] if 2 * n + 1 < len(pieces) else "") for n, k in enumerate(kept))
    result = _CLAUSE.sub(lambda m: m.group(1)[0], result).strip(",.;!?。、… \n")
    # Never leave less than a word: the whole text is the better evidence then.
    if cjk_count(result) < MIN_KEPT_CHARACTERS:
        return text
    return result
