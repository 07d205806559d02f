"""The seam between Gridline and a Telegram library: one protocol, two implementations.

A runtime owns one bot's library objects (python-telegram-bot ``Application`` or aiogram
``Bot`` + ``Dispatcher``): it feeds raw updates to the library's dispatcher, whose handlers translate
them into :mod:`.inputs` records for :mod:`.flows`, and it sends through the library's ``Bot``
methods. Library exceptions are translated into the few errors below, so the notifier and the flows
never see which library is underneath.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from gridline.bots.telegram.inputs import TelegramInput
from gridline.settings import TelegramBotSettings

InputHandler = Callable[[TelegramInput], Awaitable[None]]

# Telegram's limit for one text message (UTF-16 code units).
MAX_TEXT_LENGTH = 4096


@dataclass(frozen=True)
class Button:
    """One inline keyboard button; ``data`` is already signed (see :mod:`.callbacks`)."""

    label: str
    data: str


Keyboard = tuple[tuple[Button, ...], ...]


@dataclass(frozen=True)
class SentMessage:
    chat_id: int
    message_id: int


class TelegramSendError(Exception):
    """A Bot API call failed."""


class RetryLater(TelegramSendError):
    """429 flood control: try again after ``retry_after`` seconds."""

    def __init__(self, retry_after: float, message: str = "") -> None:
        super().__init__(message or f"flood control, retry after {retry_after}s")
        self.retry_after = retry_after


class TemporaryFailure(TelegramSendError):
    """5xx, time-out or network error: try again with backoff."""


class Blocked(TelegramSendError):
    """403: the person blocked the bot or never started it; this chat is unreachable."""


class FileTooLarge(TelegramSendError):
    """A file bigger than the caller accepts (told by ``getFile`` before it is downloaded)."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"file of {size} bytes is larger than {limit}")
        self.size, self.limit = size, limit


class Rejected(TelegramSendError):
    """A permanent refusal (400 and friends); retrying the same call cannot help."""

    @property
    def not_modified(self) -> bool:
        return "message is not modified" in str(self).lower()


class BotRuntime(Protocol):
    """One configured bot, whatever the library."""

    name: str
    framework: str

    async def start(self) -> None:
        """Initialise the library (calls ``getMe``)."""

    async def stop(self) -> None: ...

    async def process_update(self, payload: dict[str, Any]) -> None:
        """Dispatch one raw update through the library's handlers; errors propagate."""

    async def send_text(
        self,
        chat_id: int | str,
        text: str,
        keyboard: Keyboard = (),
        reply_to_message_id: int | None = None,
    ) -> SentMessage: ...

    async def send_photo(self, chat_id: int | str, photo: str, caption: str | None = None) -> SentMessage: ...

    async def edit_text(self, chat_id: int | str, message_id: int, text: str, keyboard: Keyboard = ()) -> None:
        """Replace a message's text; an empty keyboard removes its buttons."""

    async def remove_keyboard(self, chat_id: int | str, message_id: int) -> None: ...

    async def answer_callback(self, callback_id: str, text: str | None = None, alert: bool = False) -> None: ...

    async def file_path(self, file_id: str) -> str | None: ...

    async def download_file(self, file_id: str, max_bytes: int) -> bytes:
        """``getFile`` then the download; :class:`FileTooLarge` before downloading past ``max_bytes``."""

    async def set_webhook(self, url: str, secret_token: str) -> None: ...

    async def delete_webhook(self) -> None: ...

    async def get_updates(self, offset: int | None, timeout: int) -> list[dict[str, Any]]:
        """Long polling; raw update dicts, oldest first."""


RuntimeFactory = Callable[[str, TelegramBotSettings, InputHandler], BotRuntime]


def build_runtime(name: str, settings: TelegramBotSettings, on_input: InputHandler) -> BotRuntime:
    """The runtime for ``settings.framework``; the libraries are imported only when used."""
    if settings.framework == "aiogram":
        from gridline.bots.telegram.aiogram_runtime import AiogramRuntime

        return AiogramRuntime(name, settings, on_input)
    from gridline.bots.telegram.ptb_runtime import PtbRuntime

    return PtbRuntime(name, settings, on_input)


def api_root(settings: TelegramBotSettings) -> str:
    """The Bot API server without a trailing slash (the official one or a local fake)."""
    return settings.api_base_url.rstrip("/")
