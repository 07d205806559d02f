"""What staff do on Telegram: link their account, tap page buttons, ask /duty and /cases, hand over a
shift (/cover), reply.

Whether a tap is allowed is decided by the core (``act_on_case``: the paged person or someone above
in the grid's chain); this module only finds who tapped and which page the button belongs to.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from gridline.bots.page_text import answer_text, said_text
from gridline.bots.telegram import linking
from gridline.bots.telegram.callbacks import PageCallback, ReassignCallback
from gridline.bots.telegram.context import BotContext
from gridline.bots.telegram.inputs import CallbackInput, PhotoInput, Sender
from gridline.bots.telegram.runtime import Button, FileTooLarge, TelegramSendError
from gridline.bots.telegram.staff_texts import cases_text, duty_text
from gridline.core import case_lookup
from gridline.i18n import Language, normalise_language, other_language, t
from gridline.i18n.phrases import Phrase
from gridline.kernel.work import Work, in_transaction
from gridline.routing.cover_grammar import parse_cover
from gridline.routing.directory import Directory
from gridline.routing.duty import reassignment_candidates
from gridline.routing.handover import hand_over
from gridline.routing.visits import answer_visit_button, answer_visit_text, owed_list
from gridline.settings import Settings
from gridline.storage import cases, directory, outbox, pages
from gridline.storage.models import Case, Page, Staff

if TYPE_CHECKING:
    from gridline.kernel.services import Services

log = logging.getLogger(__name__)

DUTY_DAYS = 7
# How long the case named by one photo of an album is remembered for its other photos.
ALBUM_SECONDS = 600


class StaffDesk:
    def __init__(self, ctx: BotContext) -> None:
        self.ctx = ctx
        self.services = ctx.services

    # -- linking -------------------------------------------------------------------------------------

    async def redeem_link_code(self, sender: Sender, code: str) -> None:
        secret_key = self.services.settings.server.secret_key
        result = await in_transaction(self.services, _redeem_link_code, code, self.ctx.account(sender), secret_key)
        if result.linked:
            await self.ctx.say(sender, "telegram.link.linked", name=result.staff_name)
        else:
            await self.ctx.say(sender, f"telegram.link.{result.status}")

    async def link_by_contact(self, sender: Sender, phone: str) -> bool:
        """A shared own contact whose number is a staff member's phone links the account."""
        result = await in_transaction(self.services, _link_by_contact, phone, self.ctx.account(sender))
        if result.linked:
            await self.ctx.say(sender, "telegram.link.linked", name=result.staff_name)
        return result.linked

    # -- messages ------------------------------------------------------------------------------------

    async def command(self, sender: Sender, staff_id: int, command: str, args: str = "") -> None:
        from gridline.routing.queries import open_cases_for_staff, staff_duty

        staff = await self._staff(staff_id)
        asked = case_lookup.parse_query(f"status {args}") if command == "status" and args.strip() else None
        if command == "lang":
            lang = await in_transaction(self.services, _switch_language, staff_id, args.strip())
            await self.ctx.say_phrase(sender, Phrase("conversation.language_set"), lang)
            return
        if command == "duty":
            duty = await staff_duty(self.services, staff_id, days=DUTY_DAYS)
            codes = {grid_code for _, _, grid_code, _ in [*duty.shifts, *duty.handed_to]}
            grids = await in_transaction(self.services, lambda work: directory.grids_by_code(work.session, codes))
            names = {code: grid.name for code, grid in grids.items()}
            answer = duty_text(duty, DUTY_DAYS, self.services.settings.timezone, names)
        elif command == "cover":  # /cover MBR-GX01-01-2 12-05 08:00 20:00 理由: hand over my shift
            answer = await in_transaction(self.services, _cover, self.services.settings, staff_id, args)
        elif asked is not None:  # /status W4RGMD: that case
            answer = await in_transaction(self.services, _case_status, self.services, staff_id, asked[0])
        elif command in ("cases", "status"):
            answer = cases_text(await open_cases_for_staff(self.services, staff_id))
        elif command == "visits":
            owed = await owed_list(self.services, staff_id)
            await self.ctx.say_phrase(sender, owed.text, owed.lang, owed.options)
            return
        else:
            answer = Phrase("telegram.staff.help", {"name": staff.name})
        await self.ctx.say_phrase(sender, answer, staff.lang)

    # -- 走千家 ---------------------------------------------------------------------------------------

    async def visit_text(self, sender: Sender, staff_id: int, text: str) -> None:
        """``走访 3-2-501 正常`` typed to the bot: logged like the SMS, answered in the chat."""
        logged = await answer_visit_text(self.services, staff_id, text, "telegram")
        staff = await self._staff(staff_id)
        await self.ctx.say_phrase(sender, logged.said, staff.lang)

    async def visit_button(self, event: CallbackInput, staff_id: int, data: str) -> None:
        """A 正常 / 有问题 button under a list of visits owed: logged in one tap."""
        logged = await answer_visit_button(self.services, staff_id, data)
        await self.ctx.answer(event, said_text(logged.said), alert=not logged.ok)
        if logged.ok:
            staff = await self._staff(staff_id)
            await self.ctx.say_phrase(event.sender, logged.said, staff.lang)

    async def help(self, sender: Sender, staff_id: int) -> None:
        staff = await self._staff(staff_id)
        await self.ctx.say(sender, "telegram.staff.help", name=staff.name)

    async def relay(self, sender: Sender, staff_id: int, case_id: int, ref: str, text: str) -> None:
        """A reply to a page message (or to a 居民补充 about the case) goes to everyone who reported the
        case (the core checks the person may)."""
        from gridline.routing.staff_words import relay_staff_reply

        told = await relay_staff_reply(self.services, case_id, staff_id, text, "telegram")
        if told:
            # Neighbours who joined the case hear it too: the leader is told how many.
            await self.ctx.say(sender, "telegram.staff.relayed_many" if told > 1 else "telegram.staff.relayed",
                               ref=ref, n=told)
        else:
            await self.ctx.say(sender, "telegram.staff.relay_failed", ref=ref)

    async def page_replied_to(self, sender: Sender, message_id: int | None) -> tuple[Page, str | None] | None:
        """The page a message replies to (its provider id is ``<chat>:<message>``) and its case's ref."""
        if message_id is None:
            return None
        return await in_transaction(self.services, _page_replied_to, f"{sender.chat_id}:{message_id}")

    async def words_replied_to(self, sender: Sender, staff_id: int, message_id: int | None) -> tuple[int, str] | None:
        """The case of a 【居民补充】 message to this staff member that ``message_id`` replies to, and its ref."""
        if message_id is None:
            return None
        return await in_transaction(self.services, _words_replied_to, f"{sender.chat_id}:{message_id}", staff_id)

    async def evidence(self, event: PhotoInput, staff_id: int) -> None:
        """A photo from staff: evidence for the case tagged ``#REF`` in the caption or replied to."""
        from gridline.routing import evidence

        staff = await self._staff(staff_id)
        ref = evidence.caption_ref(event.caption)
        if ref is None:
            replied_to = await self.page_replied_to(event.sender, event.reply_to_message_id)
            ref = replied_to[1] if replied_to is not None else None
        album = f"telegram-album:{self.ctx.bot_name}:{event.sender.chat_id}:{event.media_group_id}"
        if ref is None and event.media_group_id:
            # The other photos of an album: the case the captioned one named (Telegram sends each alone).
            remembered = await self.services.state.get(album)
            ref = str(remembered["ref"]) if remembered else None
        elif ref is not None and event.media_group_id:
            await self.services.state.set(album, {"ref": ref}, ALBUM_SECONDS)
        limit = self.services.settings.evidence.max_bytes
        mb = round(limit / 1_000_000, 1)
        if ref is None:
            await self.ctx.say_phrase(event.sender, Phrase("evidence.result.no_case"), staff.lang)
            return
        refused = await evidence.refusal(self.services, ref, staff_id)
        if refused is not None:  # an unknown reference, or not theirs: not even downloaded
            await self.ctx.say_phrase(event.sender, Phrase(f"evidence.result.{refused.code}", {"ref": ref}), staff.lang)
            return
        try:
            data = await self.ctx.runtime.download_file(event.file_id, limit)
        except FileTooLarge:
            await self.ctx.say_phrase(event.sender, Phrase("evidence.result.too_large", {"mb": mb}), staff.lang)
            return
        except TelegramSendError as exc:
            log.warning("could not download photo %s: %s", event.file_id, exc)
            await self.ctx.say_phrase(event.sender, Phrase("evidence.result.fetch_failed"), staff.lang)
            return
        result = await evidence.attach(
            self.services, data=data, uploader=evidence.Uploader(f"staff:{staff.code}", staff_id),
            channel="telegram", ref=ref, note=evidence.caption_note(event.caption),
        )  # fmt: skip
        answer = Phrase(f"evidence.result.{result.code}", {"ref": result.ref or ref, "mb": mb})
        await self.ctx.say_phrase(event.sender, answer, staff.lang)

    # -- buttons -------------------------------------------------------------------------------------

    async def page_action(self, event: CallbackInput, tap: PageCallback) -> None:
        from gridline.routing.actions import act_on_case

        found = await self._staff_and_page(event, tap.page_id)
        if found is None:
            return
        staff, page = found
        if tap.action == "reassign":
            await self._ask_whom(event, staff, page)
            return
        result = await act_on_case(
            self.services,
            case_id=page.case_id,
            staff_id=staff.id or 0,
            action=tap.action,
            channel="telegram",
            page_id=page.id,
        )
        await self.ctx.answer(event, answer_text(result), alert=not result.ok)
        if result.ok and tap.action == "resolve" and event.message_id is not None:
            await self.ctx.drop_buttons(event.sender.chat_id, event.message_id)

    async def _ask_whom(self, event: CallbackInput, staff: Staff, page: Page) -> None:
        """转交: whom to? The people who can take the case (``routing.duty``), as buttons, and 取消."""
        grids = Directory.for_services(self.services)
        case, colleagues = await in_transaction(
            self.services, _case_and_colleagues, page.case_id, staff, grids, self.services.settings
        )
        if case is None or not colleagues:
            await self.ctx.answer(event, t("telegram.reassign.nobody", staff.lang), alert=True)
            return
        await self.ctx.answer(event, None)
        chat, page_id, signer = event.sender.chat_id, page.id or 0, self.ctx.signer
        rows = [(Button(c.name, signer.reassign_button(chat, page_id, c.id or 0)),) for c in colleagues]
        rows.append((Button(t("telegram.reassign.cancel", staff.lang), signer.reassign_button(chat, page_id, 0)),))
        # Sent directly: these buttons are the bot's own (not the core's Options), answered at once.
        await self.ctx.runtime.send_text(chat, t("telegram.reassign.ask", staff.lang, ref=case.ref), tuple(rows))

    async def reassign_chosen(self, event: CallbackInput, tap: ReassignCallback) -> None:
        from gridline.routing.actions import act_on_case

        found = await self._staff_and_page(event, tap.page_id)
        if found is None:
            return
        staff, page = found
        if tap.cancelled:
            text, ok = t("telegram.reassign.cancelled", staff.lang), True
        else:
            result = await act_on_case(
                self.services,
                case_id=page.case_id,
                staff_id=staff.id or 0,
                action="reassign",
                channel="telegram",
                page_id=page.id,
                to_staff_id=tap.staff_id,
            )
            text, ok = answer_text(result), result.ok
            ref = page.provider_ref
            if ok and ref.get("chat_id") is not None and ref.get("message_id") is not None:
                await self.ctx.drop_buttons(ref["chat_id"], int(ref["message_id"]))  # no longer theirs
        await self.ctx.answer(event, text, alert=not ok)
        if event.message_id is not None:  # the question is answered either way
            try:
                await self.ctx.runtime.edit_text(event.sender.chat_id, event.message_id, text)
            except TelegramSendError as exc:
                log.info("could not close the reassign question: %s", exc)

    async def _staff_and_page(self, event: CallbackInput, page_id: int) -> tuple[Staff, Page] | None:
        """Who tapped (a linked staff member) and the page the button is about; refuses otherwise."""
        user_id, bot_name = event.sender.user_id, self.ctx.bot_name
        staff, page = await in_transaction(self.services, _staff_and_page, user_id, bot_name, page_id)
        if staff is None or staff.id is None:
            await self.ctx.answer(event, t("telegram.button.not_linked", await self.ctx.lang(event.sender)), alert=True)
            return None
        if page is None:
            await self.ctx.answer(event, t("telegram.button.invalid", staff.lang), alert=True)
            return None
        return staff, page

    async def _staff(self, staff_id: int) -> Staff:
        staff = await in_transaction(self.services, lambda work: work.session.get(Staff, staff_id))
        if staff is None:
            raise LookupError(f"staff {staff_id} vanished")
        return staff


def _case_status(work: Work, services: Services, staff_id: int, ref: str) -> Phrase:
    """`/status REF` from staff: the case, if they may act on it (paged, its grid's leader, the chain
    above); otherwise the same answer as for a reference that does not exist."""
    from gridline.routing.who_may_act import may_act

    case = cases.by_ref(work.session, ref)
    staff = work.session.get(Staff, staff_id)
    if case is None or staff is None or not may_act(services, work, case, staff):
        return Phrase("telegram.staff.case_unknown", {"ref": ref})
    return case_lookup.case_status(work, case, services.settings.timezone)


def _switch_language(work: Work, staff_id: int, wanted: str) -> Language:
    """/lang [zh|en] for a staff member: the language asked for, else the other one; stored on the row."""
    staff = work.session.get(Staff, staff_id)
    if staff is None:
        raise LookupError(f"staff {staff_id} vanished")
    lang = normalise_language(wanted) if wanted else other_language(staff.lang)
    staff.lang = lang.value
    work.session.add(staff)
    return lang


def _redeem_link_code(work: Work, code: str, account: linking.TelegramAccount, secret_key: str) -> linking.LinkResult:
    return linking.redeem_link_code(work.session, code, account, now=work.now, secret_key=secret_key)


def _link_by_contact(work: Work, phone: str, account: linking.TelegramAccount) -> linking.LinkResult:
    return linking.link_by_contact(work.session, phone, account, now=work.now)


def _page_replied_to(work: Work, provider_message_id: str) -> tuple[Page, str | None] | None:
    page = pages.by_provider_message_id(work.session, provider_message_id, channel="telegram")
    if page is None:
        return None
    case = work.session.get(Case, page.case_id)
    return page, case.ref if case else None


# The texts to staff whose Telegram reply is relayed to the case's residents, as a reply to its page is.
RELAYED_REPLY_KEYS = frozenset({"telegram.staff.resident_adds"})


def _words_replied_to(work: Work, provider_message_id: str, staff_id: int) -> tuple[int, str] | None:
    message = outbox.by_provider_message_id(work.session, provider_message_id)
    if message is None or message.staff_id != staff_id or message.text_key not in RELAYED_REPLY_KEYS:
        return None
    case = work.session.get(Case, message.case_id) if message.case_id else None
    return (case.id or 0, case.ref) if case is not None else None


def _case_and_colleagues(
    work: Work, case_id: int, staff: Staff, grids: Directory, settings: Settings
) -> tuple[Case | None, list[Staff]]:
    """The case and whom it can be handed to (``routing.duty``, the same rule as the console's)."""
    case = work.session.get(Case, case_id)
    if case is None:
        return None, []
    found = reassignment_candidates(
        work.session, settings, grids.grid_index(work.session), case, work.now, handing_over=staff
    )
    return case, found[:MAX_REASSIGN_BUTTONS]


def _cover(work: Work, settings: Settings, staff_id: int, args: str) -> Phrase:
    staff = work.session.get(Staff, staff_id)
    ask = parse_cover(args, work.now, settings.timezone)
    if staff is None or ask is None:
        return Phrase("telegram.staff.cover_usage")
    return hand_over(work, settings, staff, ask).said


def _staff_and_page(work: Work, user_id: int, bot_name: str, page_id: int) -> tuple[Staff | None, Page | None]:
    return linking.staff_for_account(work.session, user_id, bot_name), work.session.get(Page, page_id)


# Telegram shows one button per person: the first of them (the case's own grid comes first).
MAX_REASSIGN_BUTTONS = 8

