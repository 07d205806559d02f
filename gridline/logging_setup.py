"""Logging: human-readable by default, one JSON object per line with ``server.log_json``.

Every handler, uvicorn's included, goes through ``edge.logs``: no secret, full phone number or
query string is written at any level, and provider libraries only log from WARNING up.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import TextIO

from gridline.edge.logs import protect, quiet_providers
from gridline.settings import Settings

# uvicorn configures these with handlers of their own before the app is built.
UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if record.exc_info or record.exc_text:
            data["exc"] = record.exc_text or self.formatException(record.exc_info)  # type: ignore[arg-type]
        return json.dumps(data, ensure_ascii=False)


def configure_logging(settings: Settings, stream: TextIO | None = None) -> logging.Handler:
    """Send every log line through one protected handler on ``stream`` (stderr); returns the handler."""
    handler = logging.StreamHandler(stream or sys.stderr)
    if settings.server.log_json:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    protect(handler, settings)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.server.log_level.upper())
    for name in UVICORN_LOGGERS:
        # uvicorn's lines (the access log too) in the same format, through the same filter.
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.propagate = False
    quiet_providers()
    return handler
