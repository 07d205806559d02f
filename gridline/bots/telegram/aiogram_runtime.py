"""The aiogram (v3) runtime.

A ``Bot`` whose session talks to the configured Bot API server, a ``Dispatcher`` with one router of
declarative handlers, and typed ``CallbackData`` classes describing Gridline's button formats (the
same formats :mod:`.callbacks` signs and verifies).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import Any, TypeVar

from aiogram import Bot, Dispatcher, F, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.filters import Command, CommandObject
from aiogram.filters.callback_data import CallbackData
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    ReplyParameters,
    Update,
    User,
)
from pydantic import ValidationError

from gridline.bots.telegram import callbacks
from gridline.bots.telegram.inputs import (
    COMMANDS,
    UNSUPPORTED_KINDS,
    CallbackInput,
    CommandInput,
    ContactInput,
    LocationInput,
    PhotoInput,
    Sender,
    TextInput,
    UnsupportedInput,
    unsupported_kind,
)
from gridline.bots.telegram.runtime import (
    Blocked,
    FileTooLarge,
    InputHandler,
    Keyboard,
    Rejected,
    RetryLater,
    SentMessage,
    TemporaryFailure,
    api_root,
)
from gridline.core.rescue import Unprocessable
from gridline.settings import TelegramBotSettings

log = logging.getLogger(__name__)
T = TypeVar("T")


class PageButton(CallbackData, prefix=callbacks.PAGE_PREFIX, sep=callbacks.PAGE_SEP):
    """``pg:<page>:<act>:<mac>`` — a staff page action."""

    page: int
    act: str
    mac: str


class ReassignButton(CallbackData, prefix=callbacks.REASSIGN_PREFIX, sep=callbacks.PAGE_SEP):
    """``to:<page>:<staff>:<mac>`` — whom to hand a case to."""

    page: int
    staff: int
    mac: str


class LoopButton(CallbackData, prefix=callbacks.LOOP_PREFIX, sep=callbacks.PAGE_SEP):
    """``tr:<page>:<act>:<arg>:<mac>`` — a department-loop or extension action."""

    page: int
    act: str
    arg: int
    mac: str


class OptionButton(CallbackData, prefix=callbacks.OPTION_PREFIX, sep=callbacks.OPTION_SEP):
    """``op|<data>|<mac>`` — an Option offered by the core."""

    data: str
    mac: str


class AiogramRuntime:
    """One bot on aiogram."""

    framework = "aiogram"

    def __init__(self, name: str, settings: TelegramBotSettings, on_input: InputHandler) -> None:
        self.name = name
        self._on_input = on_input
        session = AiohttpSession(api=TelegramAPIServer.from_base(api_root(settings)))
        self.bot = Bot(settings.token, session=session)
        self.dispatcher = Dispatcher()
        self.dispatcher.include_router(self._router())
        self._started = False
        self._lock = asyncio.Lock()

    def _router(self) -> Router:
        router = Router(name="gridline")
        router.message.filter(F.chat.type == "private")
        router.message.register(self._on_command, Command(*COMMANDS))
        router.message.register(self._on_location, F.location)
        router.message.register(self._on_contact, F.contact)
        router.message.register(self._on_photo, F.photo)
        router.message.register(self._on_text, F.text)
        router.message.register(self._on_unsupported)
        router.callback_query.register(self._on_callback, PageButton.filter())
        router.callback_query.register(self._on_callback, ReassignButton.filter())
        router.callback_query.register(self._on_callback, LoopButton.filter())
        router.callback_query.register(self._on_callback, OptionButton.filter())
        # Anything else (forged, stale formats) still reaches the flows, which refuse it politely.
        router.callback_query.register(self._on_callback)
        # edited_message, channel_post, ...: no handler, the dispatcher leaves them unhandled.
        return router

    # -- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        async with self._lock:
            if not self._started:
                await _translated(self.bot.get_me())
                self._started = True

    async def stop(self) -> None:
        async with self._lock:
            await self.bot.session.close()
            self._started = False

    async def process_update(self, payload: dict[str, Any]) -> None:
        await self.start()
        try:
            update = Update.model_validate(payload, context={"bot": self.bot})
        except (ValidationError, ValueError, TypeError) as exc:
            # Signed by Telegram's secret yet unreadable: retrying cannot make it readable, but the
            # inbox can still keep, answer and triage whatever message it carries (core.rescue).
            raise Unprocessable(f"unreadable update: {type(exc).__name__}: {exc}") from exc
        # Handler exceptions propagate out of feed_update, so the inbox retries the event.
        await self.dispatcher.feed_update(self.bot, update)

    # -- handlers: aiogram objects → inputs --------------------------------------------------------

    async def _on_command(self, message: Message, command: CommandObject) -> None:
        name = command.command.lower()
        await self._on_input(CommandInput(_sender(message), message.message_id, name, command.args or ""))

    async def _on_text(self, message: Message) -> None:
        reply_to = message.reply_to_message.message_id if message.reply_to_message else None
        await self._on_input(TextInput(_sender(message), message.message_id, message.text or "", reply_to))

    async def _on_location(self, message: Message) -> None:
        assert message.location is not None
        location = message.location
        await self._on_input(
            LocationInput(_sender(message), message.message_id, location.latitude, location.longitude)
        )

    async def _on_contact(self, message: Message) -> None:
        assert message.contact is not None
        contact = message.contact
        await self._on_input(
            ContactInput(
                _sender(message), message.message_id, contact.phone_number, contact.user_id, contact.first_name
            )
        )

    async def _on_photo(self, message: Message) -> None:
        assert message.photo
        largest = message.photo[-1]
        await self._on_input(
            PhotoInput(
                _sender(message),
                message.message_id,
                largest.file_id,
                largest.file_unique_id,
                message.caption,
                largest.width,
                largest.height,
                message.reply_to_message.message_id if message.reply_to_message else None,
                message.media_group_id,
            )
        )

    async def _on_unsupported(self, message: Message) -> None:
        kind = unsupported_kind({k: getattr(message, k, None) for k in UNSUPPORTED_KINDS})
        await self._on_input(UnsupportedInput(_sender(message), message.message_id, kind))

    async def _on_callback(self, query: CallbackQuery) -> None:
        message = query.message
        chat_id = message.chat.id if message is not None else query.from_user.id
        message_id = message.message_id if message is not None else None
        await self._on_input(CallbackInput(_sender_of(query.from_user, chat_id), query.id, query.data, message_id))

    # -- sending ---------------------------------------------------------------------------------

    async def send_text(
        self,
        chat_id: int | str,
        text: str,
        keyboard: Keyboard = (),
        reply_to_message_id: int | None = None,
    ) -> SentMessage:
        reply = (
            ReplyParameters(message_id=reply_to_message_id, allow_sending_without_reply=True)
            if reply_to_message_id
            else None
        )
        sent = await _translated(
            self.bot.send_message(chat_id=chat_id, text=text, reply_markup=_markup(keyboard), reply_parameters=reply)
        )
        return SentMessage(chat_id=sent.chat.id, message_id=sent.message_id)

    async def send_photo(self, chat_id: int | str, photo: str, caption: str | None = None) -> SentMessage:
        sent = await _translated(self.bot.send_photo(chat_id=chat_id, photo=photo, caption=caption))
        return SentMessage(chat_id=sent.chat.id, message_id=sent.message_id)

    async def edit_text(self, chat_id: int | str, message_id: int, text: str, keyboard: Keyboard = ()) -> None:
        await _translated(
            self.bot.edit_message_text(
                text=text, chat_id=chat_id, message_id=message_id, reply_markup=_markup(keyboard)
            )
        )

    async def remove_keyboard(self, chat_id: int | str, message_id: int) -> None:
        await _translated(self.bot.edit_message_reply_markup(chat_id=chat_id, message_id=message_id))

    async def answer_callback(self, callback_id: str, text: str | None = None, alert: bool = False) -> None:
        await _translated(self.bot.answer_callback_query(callback_query_id=callback_id, text=text, show_alert=alert))

    async def download_file(self, file_id: str, max_bytes: int) -> bytes:
        file = await _translated(self.bot.get_file(file_id))
        if file.file_size is not None and file.file_size > max_bytes:
            raise FileTooLarge(file.file_size, max_bytes)
        if not file.file_path:
            raise Rejected(f"getFile gave no path for {file_id}")
        downloaded = await _translated(self.bot.download_file(file.file_path))
        data = downloaded.read() if downloaded is not None else b""
        if len(data) > max_bytes:
            raise FileTooLarge(len(data), max_bytes)
        return data

    async def file_path(self, file_id: str) -> str | None:
        file = await _translated(self.bot.get_file(file_id))
        return file.file_path

    async def set_webhook(self, url: str, secret_token: str) -> None:
        await _translated(
            self.bot.set_webhook(url=url, secret_token=secret_token, allowed_updates=["message", "callback_query"])
        )

    async def delete_webhook(self) -> None:
        await _translated(self.bot.delete_webhook())

    async def get_updates(self, offset: int | None, timeout: int) -> list[dict[str, Any]]:
        updates = await _translated(
            self.bot.get_updates(
                offset=offset,
                timeout=timeout,
                allowed_updates=["message", "callback_query"],
                request_timeout=timeout + 10,
            )
        )
        return [update.model_dump(mode="json", exclude_none=True, by_alias=True) for update in updates]


def _sender(message: Message) -> Sender:
    user = message.from_user
    if user is None:
        return Sender(user_id=message.chat.id, chat_id=message.chat.id)
    return _sender_of(user, message.chat.id)


def _sender_of(user: User, chat_id: int) -> Sender:
    return Sender(
        user_id=user.id,
        chat_id=chat_id,
        name=user.full_name,
        username=user.username,
        language_code=user.language_code,
    )


def _markup(keyboard: Keyboard) -> InlineKeyboardMarkup | None:
    if not keyboard:
        return None
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=button.label, callback_data=button.data) for button in row]
            for row in keyboard
        ]
    )


async def _translated(call: Awaitable[T]) -> T:
    """Await an aiogram call, turning aiogram's exceptions into Gridline's delivery errors."""
    try:
        return await call
    except TelegramRetryAfter as exc:
        raise RetryLater(float(exc.retry_after), str(exc)) from exc
    except TelegramForbiddenError as exc:
        raise Blocked(str(exc)) from exc
    except (TelegramServerError, TelegramNetworkError) as exc:
        raise TemporaryFailure(str(exc)) from exc
    except TelegramAPIError as exc:
        raise Rejected(str(exc)) from exc
