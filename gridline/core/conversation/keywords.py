"""The core's resident commands by the words people type: 「状态」 on any channel is ``/status``.

The SMS help teaches 状态/帮助/English; residents type them on Telegram and the web page too, where
they used to be read as reports (「状态」 filed a noise case). So the words are the core's, one
table for every channel; ``/status`` and the others as Telegram writes them count as well.
"""

from __future__ import annotations

import unicodedata

from gridline.i18n import Language

COMMAND_KEYWORDS: dict[str, str] = {
    "状态": "status",
    "进度": "status",
    "查询": "status",
    "我的工单": "status",
    "status": "status",
    "帮助": "help",
    "help": "help",
    "english": "lang",
    "中文": "lang",
}
LANG_ARGS = {"english": Language.EN, "中文": Language.ZH_CN}
# The core's commands as Telegram writes them: residents who know the bot text them too, and the typed
# help names them (without this they were read as reports — "/lang" as an emergency).
SLASH_COMMANDS = frozenset({"status", "help", "lang", "start"})
_TRAILING = "。.!！?？,，;；~～ \t\r\n"


def normalise(text: str) -> str:
    """Full-width to half-width, lower case, surrounding spaces and punctuation removed."""
    return unicodedata.normalize("NFKC", text).strip().strip(_TRAILING).lower()


def resident_command(text: str | None) -> tuple[str, str] | None:
    """(command, args) if the whole text is one of the core's commands."""
    word = normalise(text or "")
    if word.startswith("/") and word[1:] in SLASH_COMMANDS:
        return word[1:], ""
    command = COMMAND_KEYWORDS.get(word)
    if command is None:
        return None
    return command, LANG_ARGS.get(word, "")
