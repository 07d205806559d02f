"""What a leader may text back to a page, as a table.

``12``, ``12a``, ``确认12``, ``ack 12`` acknowledge the page with code 12; ``12r``, ``完成12`` resolve
it; ``12e``, ``上报12`` escalate it now; ``值班`` / ``duty`` asks for one's shifts; ``交班 MBR-GX01-01-2
12-05 08:00 20:00 理由`` / ``cover …`` hands one over (Telegram's ``/cover``: ``cover_args``, then
``routing.cover_grammar``). A verb without a code (``a``, ``确认``, ``完成``) and a bare ``1`` mean "the
latest page sent to this phone" (a bare ``1`` only when no open page has code 1). Full-width digits,
case and trailing punctuation do not matter; a question mark only after a command that names no page
(``值班？``, ``duty?``, ``帮助？``): ``12？`` asks something, it acknowledges nothing. Any other text after
a code (``12 马上到``) is relayed to the resident of that case.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

from gridline.domain.staff_actions import StaffAction

# The staff actions an SMS can name, and the SMS-only commands (a message to the resident, the help
# text, one's shifts: Telegram's /duty).
SmsAction = Literal[StaffAction, "relay", "help", "duty"]

# Every word a leader may use for an action. Keys are compared after NFKC + lower-casing.
VERBS: dict[str, SmsAction] = {
    "a": "acknowledge",
    "ack": "acknowledge",
    "ok": "acknowledge",
    "确认": "acknowledge",
    "接单": "acknowledge",
    "收到": "acknowledge",
    "收到了": "acknowledge",
    "好的": "acknowledge",
    "已接单": "acknowledge",
    "r": "resolve",
    "c": "resolve",
    "resolve": "resolve",
    "done": "resolve",
    "完成": "resolve",
    "办结": "resolve",
    "已解决": "resolve",
    "已办结": "resolve",
    "解决了": "resolve",
    "e": "escalate",
    "esc": "escalate",
    "escalate": "escalate",
    "上报": "escalate",
    "升级": "escalate",
    "help": "help",
    "帮助": "help",
    "?": "help",
    "值班": "duty",
    "我的值班": "duty",
    "排班": "duty",
    "duty": "duty",
    "shifts": "duty",
}
# Commands that name no page: with a code after them they are not in the grammar.
NO_CODE: frozenset[SmsAction] = frozenset({"help", "duty"})

_VERB = "|".join(sorted((re.escape(v) for v in VERBS), key=len, reverse=True))
_CODE = r"\d{1,4}"
# Order matters only for readability: the patterns never match the same text.
PATTERNS: tuple[re.Pattern[str], ...] = (
    re.compile(rf"^(?P<code>{_CODE})$"),  # 12
    re.compile(rf"^(?P<code>{_CODE})\s*(?P<verb>{_VERB})$"),  # 12a, 12 r, 12确认
    re.compile(rf"^(?P<verb>{_VERB})\s*(?P<code>{_CODE})?$"),  # ack 12, 确认12, a, 完成
)
_TRAILING = "。.!！,，;；~～ \t\r\n"
# A code, then words for the resident. Checked after the patterns above, so "12 a" stays a verb.
RELAY = re.compile(rf"^(?P<code>{_CODE})\s+(?P<text>\S.*)$", re.DOTALL)


# 「交班 …」 / 「cover …」 (Telegram's /cover, its slash kept by habit): the words after it are /cover's.
# 交班 may run into its staff code (交班MBR-…); 「交班了」 is a sentence, not the command.
COVER = re.compile(r"^/?(?:交班(?![\u4e00-\u9fff])|cover(?![a-z]))(?P<args>.*)$", re.IGNORECASE | re.DOTALL)


def cover_args(text: str | None) -> str | None:
    """The hand-over's arguments when ``text`` is 「交班 …」 / 「cover …」 (``""``: the word alone), else None."""
    if not text:
        return None
    found = COVER.match(unicodedata.normalize("NFKC", text).strip())
    return found["args"].strip().strip("?" + _TRAILING) if found is not None else None


@dataclass(frozen=True)
class StaffReply:
    """A parsed reply: what to do, and to which page (``code``; None = the latest page)."""

    action: SmsAction
    code: int | None
    # True for a bare number with no verb: ``1`` may also mean "the latest page".
    bare_number: bool = False
    # What to tell the resident (``relay`` only), as the leader wrote it.
    text: str = ""


def normalise(text: str) -> str:
    """Full-width to half-width, lower case, surrounding spaces and punctuation removed."""
    return unicodedata.normalize("NFKC", text).strip().strip(_TRAILING).lower()


def parse_staff_reply(text: str | None) -> StaffReply | None:
    """The action a leader's SMS asks for, or None if it is not in the grammar."""
    if not text:
        return None
    cleaned = normalise(text)
    asked = cleaned.rstrip("?" + _TRAILING)
    if asked != cleaned and VERBS.get(asked) in NO_CODE:
        # 「值班？」: the question a leader types; with a code (「12？」) it is no command.
        return StaffReply(action=VERBS[asked], code=None)
    for pattern in PATTERNS:
        match = pattern.match(cleaned)
        if match is None:
            continue
        groups = match.groupdict()
        verb = groups.get("verb")
        code = int(groups["code"]) if groups.get("code") else None
        action = VERBS[verb] if verb else "acknowledge"
        if action in NO_CODE:
            return StaffReply(action=action, code=None) if code is None else None
        return StaffReply(action=action, code=code, bare_number=verb is None)
    # The words are the leader's, as written (no NFKC: it would turn "，" into ",").
    relay = RELAY.match(text.strip())
    if relay is not None and any(ch.isalpha() for ch in relay["text"]):
        return StaffReply(action="relay", code=int(relay["code"]), text=relay["text"].strip())
    return None
