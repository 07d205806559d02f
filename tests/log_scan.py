"""Capture every log line the way production writes them (``configure_logging``) and scan them."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from gridline.logging_setup import configure_logging
from gridline.settings import Settings

LEVELS = ("INFO", "WARNING", "ERROR", "CRITICAL")


@dataclass
class LogLines:
    stream: io.StringIO = field(default_factory=io.StringIO)

    @property
    def lines(self) -> list[str]:
        """Lines at INFO and above (a traceback counts with the line that carries it)."""
        out: list[str] = []
        for line in self.stream.getvalue().splitlines():
            if any(f" {level} " in line for level in LEVELS):
                out.append(line)
            elif out and not any(f" {level} " in line for level in ("DEBUG",)):
                out[-1] += "\n" + line
        return out

    def assert_free_of(self, *forbidden: str) -> None:
        assert self.lines, "nothing was logged at all: the capture is not working"
        for needle in forbidden:
            leaking = [line for line in self.lines if needle in line]
            assert not leaking, f"{needle!r} is in the logs:\n" + "\n".join(leaking[:5])


@contextmanager
def production_logs(settings: Settings) -> Iterator[LogLines]:
    """Log through Gridline's own handler (at INFO) for the duration; restore the old logging after."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    names = ("httpx", "httpcore", "twilio", "aiogram", "telegram", "uvicorn", "uvicorn.error", "uvicorn.access")
    kept = {name: (logging.getLogger(name).level, logging.getLogger(name).handlers[:],
                   logging.getLogger(name).propagate) for name in names}
    captured = LogLines()
    settings = settings.model_copy(update={"server": settings.server.model_copy(update={"log_level": "INFO"})})
    configure_logging(settings, stream=captured.stream)
    logging.getLogger("uvicorn.access").setLevel(logging.INFO)  # as `gridline serve` runs it
    try:
        yield captured
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        for name, (level, handlers, propagate) in kept.items():
            logger = logging.getLogger(name)
            logger.setLevel(level)
            logger.handlers[:] = handlers
            logger.propagate = propagate
