"""Keywords residents text that Gridline handles before understanding anything.

``退订``/``STOP`` and ``订阅``/``START`` are carrier conventions (``TD`` is the Chinese carriers'
"退订"); ``状态``/``STATUS`` and ``帮助``/``HELP`` are the core's commands, and so are Telegram's
``/status``, ``/help``, ``/lang`` and ``/start`` — their words are the core's
(``core.conversation.keywords``), the same on every channel.
"""

from __future__ import annotations

from typing import Literal

from gridline.bots.twilio.sms_grammar import normalise
from gridline.core.conversation.keywords import resident_command

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

def opt_command(text: str | None) -> OptCommand | None:
    """``stop`` / ``start`` if the whole text is an opt-out / opt-in keyword."""
    return OPT_KEYWORDS.get(normalise(text or ""))


__all__ = ["OPT_KEYWORDS", "OptCommand", "opt_command", "resident_command"]
