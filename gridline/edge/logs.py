"""Log lines without secrets or residents' details, at every level and from every library.

One filter on every handler rewrites each record before it is written: configured secrets (bot
tokens, auth tokens, API keys) and anything shaped like a Telegram bot URL become ``<redacted>``,
phone numbers are masked like the console masks them, and the access log loses query strings
(console search terms). Provider libraries only speak from WARNING up; their INFO lines are one per
HTTP request and carry URLs. Message texts are never passed to a logger at INFO or above — the
conversation log in the database is where they belong.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

from gridline.domain.privacy import _PHONE_IN_TEXT, _is_phone, mask_phone
from gridline.settings import Settings

# One INFO line per request (httpx, twilio) or per update (aiogram, python-telegram-bot).
PROVIDER_LOGGERS = ("httpx", "httpcore", "twilio", "twilio.http_client", "aiogram", "telegram", "hpack")
REDACTED = "<redacted>"
_BOT_URL = re.compile(r"/bot\d+:[A-Za-z0-9_-]+")
_ACCESS_LOGGER = "uvicorn.access"


def secrets_of(settings: Settings) -> list[str]:
    """Every configured secret that must never appear in a log line (longest first)."""
    values: list[str] = [settings.server.secret_key, settings.twilio.auth_token, settings.twilio.previous_auth_token,
                         settings.nlu.rasa_token, *settings.open311.api_keys]
    for bot in settings.telegram.bots.values():
        values += [bot.token, bot.secret_token]
    # Short values (placeholders, test stand-ins) would blank out ordinary words.
    return sorted({v for v in values if v and len(v) >= 8}, key=len, reverse=True)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with secrets, bot-token URLs and phone numbers hidden."""
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    text = _BOT_URL.sub("/bot" + REDACTED, text)
    return _PHONE_IN_TEXT.sub(lambda m: mask_phone(m.group(0)) if _is_phone(m.group(0)) else m.group(0), text)


class RedactingFilter(logging.Filter):
    """Rewrites every record (message, arguments, traceback) through :func:`redact`."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = list(secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == _ACCESS_LOGGER and isinstance(record.args, tuple) and len(record.args) >= 3:
            args = list(record.args)
            args[2] = str(args[2]).split("?", 1)[0]  # the path without its query string
            record.args = tuple(args)
        try:
            message = record.getMessage()
        except Exception:  # a malformed call: keep the format string only
            message = str(record.msg)
        record.msg, record.args = redact(message, self.secrets), None
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info), self.secrets)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self.secrets)
        return True


def quiet_providers() -> None:
    for name in PROVIDER_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


def protect(handler: logging.Handler, settings: Settings) -> None:
    """Add the redacting filter to ``handler`` (idempotent)."""
    if not any(isinstance(f, RedactingFilter) for f in handler.filters):
        handler.addFilter(RedactingFilter(secrets_of(settings)))
