"""A plain answer to "问题真的解决了吗？" in words, read without the NLU.

The question offers buttons (and ``回复1 / 回复2`` by SMS), but many residents type the answer. The
short answers people give — 解决了, 好了, 修好了, 谢谢, 没有, 还没好, yes, not yet — are read here,
whatever the NLU makes of them (it reads 解决了 as a status question and 还没好 as a greeting).
Only for a case that awaits the answer (``routing.closure.awaiting_confirmation``); anything longer
goes to the NLU as before ("还是没水" is the same problem again: not solved).
"""

from __future__ import annotations

import re

# Punctuation, spaces and the polite words around an answer: 「解决了，谢谢！」 is 解决了.
_NOISE = re.compile(r"[\s,.!?~，。！？、…～:：;；'\"“”‘’()（）]+")
_POLITE = re.compile(r"(谢谢(您|你|网格长|了)?|多谢|谢了|辛苦(了|啦)?|thank(s| you)( very much)?)", re.IGNORECASE)

SOLVED = frozenset({
    "解决了", "已解决", "已经解决了", "已经解决", "解决啦", "好了", "好啦", "修好了", "弄好了", "搞好了",
    "可以了", "没问题了", "没事了", "是", "是的", "是解决了", "对", "嗯", "嗯嗯", "行了", "中", "中了",
    "yes", "solved", "fixed", "ok", "okay", "yesitis", "yessolved", "",  # "" = only thanks
})  # fmt: skip
NOT_SOLVED = frozenset({
    "没有", "没", "没解决", "没有解决", "还没解决", "还没有解决", "没好", "还没好", "还没有好", "还没",
    "还没有", "不行", "还不行", "还是不行", "否", "不是", "没修好", "还没修好",
    "no", "notyet", "notsolved", "nope", "stillbroken",
})  # fmt: skip


# 「灯还是不亮啊」「还是漏」「it's still broken」: the problem is still there — whatever the model makes of
# the words' category. 又 (again) is not among them: 「又停水了」 may be a new problem.
_STILL_WRONG = re.compile(
    r"(还是|仍然|依然|依旧|照样|还)(没|不|坏|漏|停|堵|黑|吵|臭|那样)"
    r"|\bstill\b.{0,20}\b(not|no|broken|leak\w*|out|dark|dirty|there|happening)\b",
    re.IGNORECASE,
)
LONGEST_STILL_WRONG = 30


def still_wrong(text: str | None) -> bool:
    """Words saying the problem is still there (「灯还是不亮啊」), short enough to be an answer."""
    return bool(text) and len(text or "") <= LONGEST_STILL_WRONG and bool(_STILL_WRONG.search(text or ""))


# 「不用来了，水已经来了」「电来了」「没事了，已经好了」「never mind, the power is back」: the problem went
# away before anyone solved it. A report in the same breath (「水来了，但是是黄的」) is not.
_GONE = re.compile(
    r"没事了|不用(来|管|修|处理|麻烦|派人)了|不需要(来|处理|派人)?了|用不着了|自己好了|(已经|又|现在)(好|修好|弄好|恢复|通|来)了"
    r"|(水|电|气|暖气|网|信号|灯)(已经|现在|又)?(来|通|恢复|好|亮)了|(来|有)(水|电|气|暖气)了"
    r"|\bnever ?mind\b|\bno need\b|\bfixed itself\b|\ball good now\b"
    r"|\b(water|power|electricity|gas|heating|light|lights)\b.{0,12}\b(back|on again|working again)\b"
    r"|\b(it'?s|it is)\s+(working|fine|ok|back)\s+(now|again)\b",
    re.IGNORECASE,
)
_BUT = re.compile(
    r"但|可是|不过|就是|还是|又(停|坏|漏|没|不)|\bbut\b|\bstill\b|\bagain\b.{0,8}\b(off|out|broken)", re.IGNORECASE
)
LONGEST_GONE = 40


def gone_in_words(text: str | None) -> bool:
    """Words saying the problem went away (「不用来了，水已经来了」), short enough to be that alone."""
    if not text or len(text) > LONGEST_GONE or _BUT.search(text) or _STILL_WRONG.search(text):
        return False
    return bool(_GONE.search(text))


def solved_in_words(text: str | None) -> bool | None:
    """True for "solved", False for "not solved", None when ``text`` is not such a plain answer."""
    if not text or len(text) > 24:
        return None
    bare = _NOISE.sub("", _POLITE.sub("", text.strip())).lower()
    if bare in NOT_SOLVED:
        return False
    if bare in SOLVED:
        # "" is a bare thank-you: only when something polite was said (an empty text is nothing).
        return True if bare or _POLITE.search(text) else None
    return None
