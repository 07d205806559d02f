"""The python-telegram-bot (v22) runtime.

Gridline owns the webhook endpoint, so the ``Application`` is built without an ``Updater`` and fed
stored updates with ``process_update``. Handlers are registered declaratively and only translate
PTB objects into :mod:`.inputs` records.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from datetime import timedelta
from typing import Any, TypeVar

from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    ReplyParameters,
    Update,
    User,
    error,
)
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

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
Context = ContextTypes.DEFAULT_TYPE

PRIVATE_MESSAGE = filters.UpdateType.MESSAGE & filters.ChatType.PRIVATE


class PtbRuntime:
    """One bot on python-telegram-bot."""

    framework = "ptb"

    def __init__(self, name: str, settings: TelegramBotSettings, on_input: InputHandler) -> None:
        self.name = name
        self._on_input = on_input
        root = api_root(settings)
        self.application: Application[Any, Any, Any, Any, Any, Any] = (
            ApplicationBuilder()
            .token(settings.token)
            .base_url(f"{root}/bot")
            .base_file_url(f"{root}/file/bot")
            .updater(None)
            .build()
        )
        self._failures: dict[int, BaseException] = {}
        self._started = False
        self._lock = asyncio.Lock()
        self._register_handlers()

    @property
    def bot(self) -> Bot:
        return self.application.bot

    def _register_handlers(self) -> None:
        app = self.application
        app.add_handler(CommandHandler(list(COMMANDS), self._on_command, filters=PRIVATE_MESSAGE))
        app.add_handler(MessageHandler(PRIVATE_MESSAGE & filters.LOCATION, self._on_location))
        app.add_handler(MessageHandler(PRIVATE_MESSAGE & filters.CONTACT, self._on_contact))
        app.add_handler(MessageHandler(PRIVATE_MESSAGE & filters.PHOTO, self._on_photo))
        app.add_handler(MessageHandler(PRIVATE_MESSAGE & filters.TEXT, self._on_text))
        app.add_handler(MessageHandler(PRIVATE_MESSAGE, self._on_unsupported))
        app.add_handler(CallbackQueryHandler(self._on_callback))
        # Edited messages, channel posts, membership changes: no handler, so they are ignored.
        app.add_error_handler(self._on_error)

    # -- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        async with self._lock:
            if not self._started:
                await _translated(self.application.initialize())
                self._started = True

    async def stop(self) -> None:
        async with self._lock:
            if self._started:
                await self.application.shutdown()
                self._started = False

    async def process_update(self, payload: dict[str, Any]) -> None:
        await self.start()
        try:
            update = Update.de_json(payload, self.bot)
        except Exception as exc:
            # Signed by Telegram's secret yet unreadable: retrying cannot make it readable, but the
            # inbox can still keep, answer and triage whatever message it carries (core.rescue).
            raise Unprocessable(f"unreadable update: {type(exc).__name__}: {exc}") from exc
        await self.application.process_update(update)
        # PTB hands handler exceptions to error handlers; surface them so the inbox retries the event.
        failure = self._failures.pop(update.update_id, None)
        if failure is not None:
            raise failure

    async def _on_error(self, update: object, context: Context) -> None:
        if isinstance(update, Update) and context.error is not None:
            self._failures[update.update_id] = context.error

    # -- handlers: PTB objects → inputs ------------------------------------------------------------

    async def _on_command(self, update: Update, context: Context) -> None:
        message = _message(update)
        text = message.text or ""
        command = text.split()[0].lstrip("/").split("@")[0].lower()
        args = " ".join(context.args or [])
        await self._on_input(CommandInput(_sender(message), message.message_id, command, args))

    async def _on_text(self, update: Update, context: Context) -> None:
        message = _message(update)
        reply_to = message.reply_to_message.message_id if message.reply_to_message else None
        await self._on_input(TextInput(_sender(message), message.message_id, message.text or "", reply_to))

    async def _on_location(self, update: Update, context: Context) -> None:
        message = _message(update)
        assert message.location is not None
        location = message.location
        await self._on_input(
            LocationInput(_sender(message), message.message_id, location.latitude, location.longitude)
        )

    async def _on_contact(self, update: Update, context: Context) -> None:
        message = _message(update)
        assert message.contact is not None
        contact = message.contact
        await self._on_input(
            ContactInput(
                _sender(message), message.message_id, contact.phone_number, contact.user_id, contact.first_name
            )
        )

    async def _on_photo(self, update: Update, context: Context) -> None:
        message = _message(update)
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

    async def _on_unsupported(self, update: Update, context: Context) -> None:
        message = _message(update)
        kind = unsupported_kind({k: getattr(message, k, None) for k in UNSUPPORTED_KINDS})
        await self._on_input(UnsupportedInput(_sender(message), message.message_id, kind))

    async def _on_callback(self, update: Update, context: Context) -> None:
        query = update.callback_query
        assert query is not None
        message = query.message
        chat_id = message.chat.id if message is not None else query.from_user.id
        sender = _sender_of(query.from_user, chat_id)
        message_id = message.message_id if message is not None else None
        await self._on_input(CallbackInput(sender, query.id, query.data, message_id))

    # -- sending ---------------------------------------------------------------------------------

    async def send_text(
        self,
        chat_id: int | str,
        text: str,
        keyboard: Keyboard = (),
        reply_to_message_id: int | None = None,
    ) -> SentMessage:
        await self.start()
        reply = ReplyParameters(reply_to_message_id, allow_sending_without_reply=True) if reply_to_message_id else None
        sent = await _translated(
            self.bot.send_message(chat_id, text, reply_markup=_markup(keyboard), reply_parameters=reply)
        )
        return SentMessage(chat_id=sent.chat.id, message_id=sent.message_id)

    async def send_photo(self, chat_id: int | str, photo: str, caption: str | None = None) -> SentMessage:
        await self.start()
        sent = await _translated(self.bot.send_photo(chat_id, photo, caption=caption))
        return SentMessage(chat_id=sent.chat.id, message_id=sent.message_id)

    async def edit_text(self, chat_id: int | str, message_id: int, text: str, keyboard: Keyboard = ()) -> None:
        await self.start()
        await _translated(
            self.bot.edit_message_text(text, chat_id=chat_id, message_id=message_id, reply_markup=_markup(keyboard))
        )

    async def remove_keyboard(self, chat_id: int | str, message_id: int) -> None:
        await self.start()
        await _translated(self.bot.edit_message_reply_markup(chat_id=chat_id, message_id=message_id))

    async def answer_callback(self, callback_id: str, text: str | None = None, alert: bool = False) -> None:
        await self.start()
        await _translated(self.bot.answer_callback_query(callback_id, text=text, show_alert=alert))

    async def download_file(self, file_id: str, max_bytes: int) -> bytes:
        await self.start()
        file = await _translated(self.bot.get_file(file_id))
        if file.file_size is not None and file.file_size > max_bytes:
            raise FileTooLarge(file.file_size, max_bytes)
        data = bytes(await _translated(file.download_as_bytearray()))
        if len(data) > max_bytes:
            raise FileTooLarge(len(data), max_bytes)
        return data

    async def file_path(self, file_id: str) -> str | None:
        await self.start()
        file = await _translated(self.bot.get_file(file_id))
        path = file.file_path
        # PTB turns the path into a download URL containing the token; keep only the path.
        prefix = f"{self.bot.base_file_url}/"
        if path and path.startswith(prefix):
            path = path[len(prefix) :]
        return path

    async def set_webhook(self, url: str, secret_token: str) -> None:
        await self.start()
        await _translated(
            self.bot.set_webhook(url, secret_token=secret_token, allowed_updates=["message", "callback_query"])
        )

    async def delete_webhook(self) -> None:
        await self.start()
        await _translated(self.bot.delete_webhook())

    async def get_updates(self, offset: int | None, timeout: int) -> list[dict[str, Any]]:
        await self.start()
        updates = await _translated(
            self.bot.get_updates(
                offset=offset, timeout=timeout, read_timeout=timeout + 10, allowed_updates=["message", "callback_query"]
            )
        )
        return [update.to_dict() for update in updates]


def _message(update: Update) -> Message:
    message = update.message
    assert message is not None  # guaranteed by the UpdateType.MESSAGE filter
    return message


def _sender(message: Message) -> Sender:
    user = message.from_user
    if user is None:  # anonymous senders only exist outside private chats
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
        [[InlineKeyboardButton(button.label, callback_data=button.data) for button in row] for row in keyboard]
    )


def _seconds(value: int | float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


async def _translated(call: Awaitable[T]) -> T:
    """Await a PTB call, turning PTB's exceptions into Gridline's delivery errors."""
    try:
        return await call
    except error.RetryAfter as exc:
        raise RetryLater(_seconds(exc.retry_after), str(exc)) from exc
    except error.Forbidden as exc:
        raise Blocked(str(exc)) from exc
    except error.BadRequest as exc:  # a NetworkError subclass in PTB, but permanent
        raise Rejected(str(exc)) from exc
    except (error.TimedOut, error.NetworkError) as exc:
        # PTB reports 5xx answers and connection failures alike as NetworkError.
        raise TemporaryFailure(str(exc)) from exc
    except error.TelegramError as exc:
        raise Rejected(str(exc)) from exc

