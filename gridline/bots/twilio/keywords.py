"""Keywords residents text that Gridline handles before understanding anything.

``退订``/``STOP`` and ``订阅``/``START`` are carrier conventions (``TD`` is the Chinese carriers'
"退订"); ``状态``/``STATUS`` and ``帮助``/``HELP`` are the core's commands, and so are Telegram's
``/status``, ``/help``, ``/lang`` and ``/start``.
"""

from __future__ import annotations

from typing import Literal

from gridline.bots.twilio.sms_grammar import normalise
from gridline.i18n import Language

OptCommand = Literal["stop", "start"]

OPT_KEYWORDS: dict[str, OptCommand] = {
    "stop": "stop",
    "stopall": "stop",
    "unsubscribe": "stop",
    "cancel": "stop",
    "quit": "stop",
    "end": "stop",
    "td": "stop",
    "退订": "stop",
    "取消订阅": "stop",
    "start": "start",
    "unstop": "start",
    "subscribe": "start",
    "订阅": "start",
    "恢复订阅": "start",
}

# Resident commands of the core, by the words people text.
COMMAND_KEYWORDS: dict[str, str] = {
    "状态": "status",
    "进度": "status",
    "查询": "status",
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


def opt_command(text: str | None) -> OptCommand | None:
    """``stop`` / ``start`` if the whole text is an opt-out / opt-in keyword."""
    return OPT_KEYWORDS.get(normalise(text or ""))


def resident_command(text: str | None) -> tuple[str, str] | None:
    """(command, args) if the whole text is one of the core's commands."""
    word = normalise(text or "")
    if word.startswith("/") and word[1:] in SLASH_COMMANDS:
        return word[1:], ""
    command = COMMAND_KEYWORDS.get(word)
    if command is None:
        return None
    return command, LANG_ARGS.get(word, "")
