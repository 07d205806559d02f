"""What Gridline does when someone does something on Telegram — the same for both libraries.

Residents' messages become :class:`~gridline.core.messages.InboundMessage` for the conversation core,
whose replies leave through the outbox and the Telegram notifier. Staff get their own small flow:
account linking, page buttons (``act_on_case`` decides whether they may act), ``/duty``, ``/cases``
and replies to a page relayed to the resident. Nothing here decides who is paged.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from sqlmodel import select

from gridline.bots.telegram import linking
from gridline.bots.telegram.callbacks import CallbackSigner, OptionCallback, PageCallback
from gridline.bots.telegram.inputs import (
    CallbackInput,
    CommandInput,
    ContactInput,
    LocationInput,
    PhotoInput,
    Sender,
    TelegramInput,
    TextInput,
    UnsupportedInput,
)
from gridline.bots.telegram.runtime import BotRuntime, Rejected, TelegramSendError
from gridline.bots.telegram.staff_texts import cases_text, duty_text
from gridline.core.messages import InboundMessage, Outcome
from gridline.i18n import t
from gridline.storage.models import ChannelIdentity, Page, Resident, Staff

if TYPE_CHECKING:
    from gridline.core.services import Services

log = logging.getLogger(__name__)

DUTY_DAYS = 7


class TelegramFlows:
    """The behaviour of one bot. Runtimes call :meth:`handle` with what the person did."""

    def __init__(self, services: Services, bot_name: str, runtime: BotRuntime, signer: CallbackSigner) -> None:
        self.services = services
        self.bot_name = bot_name
        self.runtime = runtime
        self.signer = signer
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
        self._adopt_imported_identity(event.sender)
        await self._handlers[type(event)](event)

    # -- messages ------------------------------------------------------------------------------------

    async def on_command(self, event: CommandInput) -> None:
        if event.command == "start" and event.args.strip():
            await self._redeem_link_code(event.sender, event.args.strip())
            return
        outcome = await self._to_core(event.sender, event.message_id, command=event.command, command_args=event.args)
        if outcome.staff_id is not None:
            await self._staff_command(event.sender, outcome.staff_id, event.command)

    async def on_text(self, event: TextInput) -> None:
        page = self._page_replied_to(event.sender, event.reply_to_message_id)
        outcome = await self._to_core(
            event.sender,
            event.message_id,
            text=event.text,
            reply_to_case_ref=self._case_ref(page) if page else None,
        )
        if outcome.staff_id is None:
            return
        if page is not None:
            await self._relay(event.sender, outcome.staff_id, page, event.text)
        else:
            await self._staff_help(event.sender, outcome.staff_id)

    async def on_location(self, event: LocationInput) -> None:
        outcome = await self._to_core(event.sender, event.message_id, location=(event.latitude, event.longitude))
        if outcome.staff_id is not None:
            await self._staff_help(event.sender, outcome.staff_id)

    async def on_contact(self, event: ContactInput) -> None:
        sender = event.sender
        # Anyone can forward someone else's contact card; only the sender's own number proves anything.
        if event.contact_user_id != sender.user_id:
            await self._say(sender, t("telegram.contact.not_own", self._lang(sender)))
            return
        with self.services.db.session() as session:
            result = linking.link_by_contact(
                session, event.phone_number, self._account(sender), now=self.services.clock.now()
            )
        if result.linked:
            await self._say(sender, t("telegram.link.linked", result.staff_lang, name=result.staff_name))
            return
        phone = linking.telegram_phone_to_e164(event.phone_number)
        outcome = await self._to_core(sender, event.message_id, verified_phone=phone)
        if outcome.staff_id is not None:
            await self._staff_help(sender, outcome.staff_id)

    async def on_photo(self, event: PhotoInput) -> None:
        try:
            path = await self.runtime.file_path(event.file_id)
        except TelegramSendError as exc:  # the file id alone still lets staff fetch it later
            log.warning("getFile failed for %s: %s", event.file_id, exc)
            path = None
        media = {
            "kind": "photo",
            "provider": "telegram",
            "bot_name": self.bot_name,
            "file_id": event.file_id,
            "file_unique_id": event.file_unique_id,
            "file_path": path,
            "width": event.width,
            "height": event.height,
        }
        await self._to_core(event.sender, event.message_id, text=event.caption, media=[media])

    async def on_unsupported(self, event: UnsupportedInput) -> None:
        lang = self._lang(event.sender)
        if event.kind in ("voice", "video_note", "audio"):
            text = t("telegram.unsupported.voice", lang, hotline=self.services.settings.cases.hotline_display)
        else:
            text = t("telegram.unsupported.other", lang)
        await self._say(event.sender, text)

    # -- buttons -----------------------------------------------------------------------------------

    async def on_callback(self, event: CallbackInput) -> None:
        sender = event.sender
        verified = self.signer.verify(sender.chat_id, event.data)
        if verified is None:
            log.warning("refused callback data %r from telegram user %s", event.data, sender.user_id)
            await self._answer(event, t("telegram.button.invalid", self._lang(sender)), alert=True)
        elif isinstance(verified, PageCallback):
            await self._page_action(event, verified)
        else:
            await self._option_chosen(event, verified)

    async def _page_action(self, event: CallbackInput, tap: PageCallback) -> None:
        from gridline.routing.actions import act_on_case

        with self.services.db.session() as session:
            staff = linking.staff_for_account(session, event.sender.user_id, self.bot_name)
            page = session.get(Page, tap.page_id)
        if staff is None or staff.id is None:
            await self._answer(event, t("telegram.button.not_linked", self._lang(event.sender)), alert=True)
            return
        if page is None:
            await self._answer(event, t("telegram.button.invalid", staff.lang), alert=True)
            return
        result = await act_on_case(
            self.services,
            case_id=page.case_id,
            staff_id=staff.id,
            action=tap.action,
            channel="telegram",
            page_id=page.id,
        )
        await self._answer(event, result.text, alert=not result.ok)

    async def _option_chosen(self, event: CallbackInput, choice: OptionCallback) -> None:
        await self._answer(event, None)
        outcome = await self._to_core(event.sender, None, choice=choice.data)
        if outcome.staff_id is None and event.message_id is not None:
            # One answer per question: the buttons go once the choice is stored.
            try:
                await self.runtime.remove_keyboard(event.sender.chat_id, event.message_id)
            except TelegramSendError as exc:
                log.info("could not remove the choice buttons: %s", exc)

    # -- staff ---------------------------------------------------------------------------------------

    async def _redeem_link_code(self, sender: Sender, code: str) -> None:
        with self.services.db.session() as session:
            result = linking.redeem_link_code(
                session,
                code,
                self._account(sender),
                now=self.services.clock.now(),
                secret_key=self.services.settings.server.secret_key,
            )
        if result.linked:
            await self._say(sender, t("telegram.link.linked", result.staff_lang, name=result.staff_name))
        else:
            await self._say(sender, t(f"telegram.link.{result.status}", self._lang(sender)))

    async def _staff_command(self, sender: Sender, staff_id: int, command: str) -> None:
        from gridline.routing.queries import open_cases_for_staff, staff_shifts

        staff = self._staff(staff_id)
        if command == "duty":
            shifts = await _maybe_await(staff_shifts(self.services, staff_id, days=DUTY_DAYS))
            await self._say(sender, duty_text(shifts, staff.lang, DUTY_DAYS, self.services.settings.timezone))
        elif command in ("cases", "status"):
            cases = await _maybe_await(open_cases_for_staff(self.services, staff_id))
            await self._say(sender, cases_text(cases, staff.lang))
        else:
            await self._say(sender, t("telegram.staff.help", staff.lang, name=staff.name))

    async def _staff_help(self, sender: Sender, staff_id: int) -> None:
        staff = self._staff(staff_id)
        await self._say(sender, t("telegram.staff.help", staff.lang, name=staff.name))

    async def _relay(self, sender: Sender, staff_id: int, page: Page, text: str) -> None:
        from gridline.routing.actions import relay_staff_reply

        staff = self._staff(staff_id)
        ref = self._case_ref(page) or ""
        try:
            await relay_staff_reply(self.services, page.case_id, staff_id, text, "telegram")
        except (LookupError, ValueError, PermissionError) as exc:
            await self._say(sender, t("telegram.staff.relay_failed", staff.lang, reason=str(exc)))
            return
        await self._say(sender, t("telegram.staff.relayed", staff.lang, ref=ref))

    # -- helpers -----------------------------------------------------------------------------------

    async def _to_core(self, sender: Sender, message_id: int | None, **fields: Any) -> Outcome:
        from gridline.core.conversation import handle_inbound

        msg = InboundMessage(
            channel="telegram",
            external_id=str(sender.user_id),
            bot_name=self.bot_name,
            chat_id=str(sender.chat_id),
            provider_message_id=f"{sender.chat_id}:{message_id}" if message_id is not None else None,
            display_name=sender.name,
            received_at=self.services.clock.now(),
            **fields,
        )
        return await handle_inbound(self.services, msg)

    async def _say(self, sender: Sender, text: str) -> None:
        await self.runtime.send_text(sender.chat_id, text)

    async def _answer(self, event: CallbackInput, text: str | None, alert: bool = False) -> None:
        try:
            await self.runtime.answer_callback(event.callback_id, text, alert=alert)
        except Rejected as exc:  # "query is too old": the action itself already happened
            log.info("answerCallbackQuery refused: %s", exc)

    def _account(self, sender: Sender) -> linking.TelegramAccount:
        return linking.TelegramAccount(
            user_id=sender.user_id, chat_id=sender.chat_id, bot_name=self.bot_name, display=sender.name
        )

    def _adopt_imported_identity(self, sender: Sender) -> None:
        with self.services.db.session() as session:
            linking.adopt_imported_identity(session, self._account(sender), now=self.services.clock.now())

    def _lang(self, sender: Sender) -> str:
        """The language for texts the bot says itself: the person's stored choice, else the default."""
        with self.services.db.session() as session:
            identity = session.exec(
                select(ChannelIdentity).where(
                    ChannelIdentity.channel == "telegram",
                    ChannelIdentity.external_id == str(sender.user_id),
                    ChannelIdentity.bot_name == self.bot_name,
                )
            ).first()
            if identity is not None and identity.staff_id is not None:
                staff = session.get(Staff, identity.staff_id)
                if staff is not None:
                    return staff.lang
            if identity is not None and identity.resident_id is not None:
                resident = session.get(Resident, identity.resident_id)
                if resident is not None:
                    return resident.lang
        return self.services.settings.default_language

    def _staff(self, staff_id: int) -> Staff:
        with self.services.db.session() as session:
            staff = session.get(Staff, staff_id)
        if staff is None:
            raise LookupError(f"staff {staff_id} vanished")
        return staff

    def _page_replied_to(self, sender: Sender, message_id: int | None) -> Page | None:
        """The page a staff member is replying to (pages store ``<chat>:<message>`` as provider id)."""
        if message_id is None:
            return None
        with self.services.db.session() as session:
            return session.exec(
                select(Page).where(
                    Page.channel == "telegram",
                    Page.provider_message_id == f"{sender.chat_id}:{message_id}",
                )
            ).first()

    def _case_ref(self, page: Page) -> str | None:
        from gridline.storage.models import Case

        with self.services.db.session() as session:
            case = session.get(Case, page.case_id)
        return case.ref if case else None


async def _maybe_await(value: Any) -> Any:
    if isinstance(value, Awaitable):
        return await value
    return value
