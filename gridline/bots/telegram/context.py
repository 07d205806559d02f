"""What every flow of one bot needs: the services, the runtime to answer through, the signer."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gridline.bots.telegram import linking
from gridline.bots.telegram.callbacks import CallbackSigner
from gridline.bots.telegram.inputs import CallbackInput, Sender
from gridline.bots.telegram.runtime import BotRuntime, Rejected, TelegramSendError
from gridline.i18n import language_of_text
from gridline.i18n.phrases import Phrase
from gridline.kernel.messages import InboundMessage, Option, Outcome
from gridline.kernel.work import Work, in_transaction
from gridline.storage import people

if TYPE_CHECKING:
    from gridline.kernel.services import Services

log = logging.getLogger(__name__)


@dataclass
class BotContext:
    services: Services
    bot_name: str
    runtime: BotRuntime
    signer: CallbackSigner

    async def to_core(self, sender: Sender, message_id: int | None, **fields: Any) -> Outcome:
        """Hand what the person did to the conversation core as a channel-neutral message."""
        from gridline.core.conversation import handle_inbound

        msg = InboundMessage(
            channel="telegram",
            external_id=str(sender.user_id),
            bot_name=self.bot_name,
            chat_id=str(sender.chat_id),
            provider_message_id=f"{sender.chat_id}:{message_id}" if message_id is not None else None,
            display_name=sender.name,
            received_at=self.services.clock.now(),
            # Only a new resident's language is set from this: one who writes to us in English is
            # answered in English from the first reply, as on SMS and the web (/lang switches later).
            lang=fields.pop("lang", None) or language_of_text(fields.get("text")),
            **fields,
        )
        return await handle_inbound(self.services, msg)

    async def say(self, sender: Sender, key: str, **params: Any) -> None:
        """Say catalogue message ``key`` in the person's language (see :meth:`say_phrase`)."""
        lang = await self.lang(sender)
        await in_transaction(self.services, self._say, sender, Phrase(key, params), lang, ())

    async def say_phrase(self, sender: Sender, phrase: Phrase, lang: str, options: tuple[Option, ...] = ()) -> None:
        """Something the bot says itself (link results, staff answers, polite refusals): ``phrase`` (a
        catalogue key and its facts) in ``lang``, with buttons.

        It goes through the outbox like the core's replies: stored in the conversation log with its
        key, delivered in order after them, retried on flood control.
        """
        await in_transaction(self.services, self._say, sender, phrase, lang, options)

    def _say(self, work: Work, sender: Sender, phrase: Phrase, lang: str, options: tuple[Option, ...]) -> None:
        from gridline.kernel.outbox import queue_message

        identity = people.find_identity(work.session, "telegram", str(sender.user_id), self.bot_name)
        if identity is None:
            identity = people.new_identity(work.session, "telegram", str(sender.user_id), self.bot_name, work.now,
                                           display=sender.name, chat_id=str(sender.chat_id))
        queue_message(
            work,
            channel="telegram",
            identity=identity,
            phrase=phrase,
            lang=lang,
            options=options,
            resident_id=identity.resident_id,
            staff_id=identity.staff_id,
        )

    async def answer(self, event: CallbackInput, text: str | None, alert: bool = False) -> None:
        """Stop the button's spinner, with a toast (or an alert for refusals)."""
        try:
            await self.runtime.answer_callback(event.callback_id, text, alert=alert)
        except Rejected as exc:  # "query is too old": whatever the tap did has already happened
            log.info("answerCallbackQuery refused: %s", exc)

    async def drop_buttons(self, chat_id: int | str, message_id: int) -> None:
        try:
            await self.runtime.remove_keyboard(chat_id, message_id)
        except TelegramSendError as exc:
            log.info("could not remove buttons from %s:%s: %s", chat_id, message_id, exc)

    def account(self, sender: Sender) -> linking.TelegramAccount:
        return linking.TelegramAccount(
            user_id=sender.user_id, chat_id=sender.chat_id, bot_name=self.bot_name, display=sender.name
        )

    async def lang(self, sender: Sender) -> str:
        """The language for texts the bot says itself: the person's stored choice, else the default."""
        lang = await in_transaction(self.services, self._stored_lang, sender)
        return lang or self.services.settings.default_language

    def _stored_lang(self, work: Work, sender: Sender) -> str | None:
        identity = people.find_telegram_identity(work.session, str(sender.user_id), self.bot_name)
        return people.lang_of(work.session, identity)
