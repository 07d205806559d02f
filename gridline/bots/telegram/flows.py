"""What Gridline does when someone does something on Telegram — the same for both libraries.

Residents' messages become :class:`~gridline.kernel.messages.InboundMessage` for the conversation core,
whose replies leave through the outbox and the Telegram notifier. When the core says the sender is
staff, :mod:`.staff` takes over. Nothing here decides who is paged.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from gridline.bots.telegram import linking
from gridline.bots.telegram.callbacks import LoopCallback, OptionCallback, PageCallback, ReassignCallback
from gridline.bots.telegram.context import BotContext
from gridline.bots.telegram.inputs import (
    LOOP_COMMANDS,
    CallbackInput,
    CommandInput,
    ContactInput,
    LocationInput,
    PhotoInput,
    TelegramInput,
    TextInput,
    UnsupportedInput,
)
from gridline.bots.telegram.loop import LoopDesk
from gridline.bots.telegram.runtime import TelegramSendError
from gridline.bots.telegram.staff import StaffDesk
from gridline.i18n import t
from gridline.kernel.work import Work, in_transaction
from gridline.routing.visit_grammar import is_visit_text
from gridline.routing.visits import is_visit_button
from gridline.storage import outbox
from gridline.storage.models import Case

log = logging.getLogger(__name__)

# Kinds of message that are sound rather than text: suggest typing or calling instead.
SPOKEN_KINDS = ("voice", "video_note", "audio")


class TelegramFlows:
    """The behaviour of one bot. Runtimes call :meth:`handle` with what the person did."""

    def __init__(self, ctx: BotContext) -> None:
        self.ctx = ctx
        self.staff = StaffDesk(ctx)
        self.loop = LoopDesk(ctx, self.staff)
        self._handlers: dict[type, Callable[[Any], Awaitable[None]]] = {
            CommandInput: self.on_command,
            TextInput: self.on_text,
            LocationInput: self.on_location,
            ContactInput: self.on_contact,
            PhotoInput: self.on_photo,
            CallbackInput: self.on_callback,
            UnsupportedInput: self.on_unsupported,
        }

    async def handle(self, event: TelegramInput) -> None:
        # People imported without a bot name are recognised by the unit of work that first meets them
        # on this bot (``storage.people.new_identity``), not by an extra query before every update.
        await self._handlers[type(event)](event)

    async def on_command(self, event: CommandInput) -> None:
        if event.command == "start" and linking.may_be_link_code(event.args):
            await self.staff.redeem_link_code(event.sender, event.args.strip())
            return
        outcome = await self.ctx.to_core(
            event.sender, event.message_id, command=event.command, command_args=event.args
        )
        if outcome.staff_id is not None and event.command in LOOP_COMMANDS:
            await self.loop.command(event.sender, outcome.staff_id, event.command, event.args)
        elif outcome.staff_id is not None:
            await self.staff.command(event.sender, outcome.staff_id, event.command, event.args)

    async def on_text(self, event: TextInput) -> None:
        replied_to = await self.staff.page_replied_to(event.sender, event.reply_to_message_id)
        page, ref = replied_to if replied_to is not None else (None, None)
        if page is None and event.reply_to_message_id is not None:
            # A resident answering one of our messages about a case (the leader's words relayed, a
            # notice): the core keeps the answer on that case instead of reading it as a new report.
            ref = await in_transaction(
                self.ctx.services, _case_of_message, f"{event.sender.chat_id}:{event.reply_to_message_id}"
            )
        outcome = await self.ctx.to_core(event.sender, event.message_id, text=event.text, reply_to_case_ref=ref)
        if outcome.staff_id is None:
            return
        if page is not None and await self.loop.reply_to_page(event.sender, outcome.staff_id, page, event.text):
            return  # a department's reply to its transfer page is its 回单
        if page is not None:
            await self.staff.relay(event.sender, outcome.staff_id, page.case_id, ref or "", event.text)
        elif (added := await self.staff.words_replied_to(event.sender, outcome.staff_id, event.reply_to_message_id)):
            # A reply to 【居民补充】 answers the resident as a reply to the page does.
            await self.staff.relay(event.sender, outcome.staff_id, added[0], added[1], event.text)
        elif is_visit_text(event.text):
            await self.staff.visit_text(event.sender, outcome.staff_id, event.text)
        else:
            await self.staff.help(event.sender, outcome.staff_id)

    async def on_location(self, event: LocationInput) -> None:
        outcome = await self.ctx.to_core(event.sender, event.message_id, location=(event.latitude, event.longitude))
        if outcome.staff_id is not None:
            await self.staff.help(event.sender, outcome.staff_id)

    async def on_contact(self, event: ContactInput) -> None:
        sender = event.sender
        # Anyone can forward someone else's contact card; only the sender's own number proves anything.
        if event.contact_user_id != sender.user_id:
            await self.ctx.say(sender, "telegram.contact.not_own")
            return
        if await self.staff.link_by_contact(sender, event.phone_number):
            return
        phone = linking.telegram_phone_to_e164(event.phone_number)
        outcome = await self.ctx.to_core(sender, event.message_id, verified_phone=phone)
        if outcome.staff_id is not None:
            await self.staff.help(sender, outcome.staff_id)

    async def on_photo(self, event: PhotoInput) -> None:
        try:
            path = await self.ctx.runtime.file_path(event.file_id)
        except TelegramSendError as exc:  # the file id alone still lets staff fetch it later
            log.warning("getFile failed for %s: %s", event.file_id, exc)
            path = None
        media = {
            "kind": "photo",
            "provider": "telegram",
            "bot_name": self.ctx.bot_name,
            "file_id": event.file_id,
            "file_unique_id": event.file_unique_id,
            "file_path": path,
            "width": event.width,
            "height": event.height,
        }
        outcome = await self.ctx.to_core(event.sender, event.message_id, text=event.caption, media=[media])
        if outcome.staff_id is not None:
            # A staff member's photo is evidence of the fix (#REF in the caption, or a reply to the page).
            await self.staff.evidence(event, outcome.staff_id)

    async def on_unsupported(self, event: UnsupportedInput) -> None:
        if event.kind in SPOKEN_KINDS:
            hotline = self.ctx.services.settings.cases.hotline_display
            await self.ctx.say(event.sender, "telegram.unsupported.voice", hotline=hotline)
        else:
            await self.ctx.say(event.sender, "telegram.unsupported.other")

    async def on_callback(self, event: CallbackInput) -> None:
        verified = self.ctx.signer.verify(event.sender.chat_id, event.data)
        if verified is None:
            log.warning("refused callback data %r from telegram user %s", event.data, event.sender.user_id)
            await self.ctx.answer(event, t("telegram.button.invalid", await self.ctx.lang(event.sender)), alert=True)
        elif isinstance(verified, PageCallback):
            await self.staff.page_action(event, verified)
        elif isinstance(verified, ReassignCallback):
            await self.staff.reassign_chosen(event, verified)
        elif isinstance(verified, LoopCallback):
            await self.loop.button(event, verified)
        else:
            await self._option_chosen(event, verified)

    async def _option_chosen(self, event: CallbackInput, choice: OptionCallback) -> None:
        if is_visit_button(choice.data):
            # 走千家: a staff member logs a visit (the toast says how it went).
            outcome = await self.ctx.to_core(event.sender, None, choice=choice.data)
            if outcome.staff_id is not None:
                await self.staff.visit_button(event, outcome.staff_id, choice.data)
                return
        await self.ctx.answer(event, None)
        outcome = await self.ctx.to_core(event.sender, None, choice=choice.data)
        if outcome.staff_id is None and event.message_id is not None:
            # One answer per question: the buttons go once the choice is stored.
            await self.ctx.drop_buttons(event.sender.chat_id, event.message_id)


def _case_of_message(work: Work, provider_message_id: str) -> str | None:
    """The reference of the case one of the bot's messages in a chat was about, if any."""
    message = outbox.by_provider_message_id(work.session, provider_message_id)
    case = work.session.get(Case, message.case_id) if message is not None and message.case_id else None
    return case.ref if case is not None else None
