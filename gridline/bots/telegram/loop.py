"""The department loop and extensions on Telegram: page buttons (签收, 回单, 退单, 通过, 驳回, 延期, 同意,
转办部门), a reply to a transfer page (回单 with its words), and the commands ``/transfer REF note``,
``/accept REF``, ``/reply REF result``, ``/return REF reason-number note``, ``/approve REF``,
``/reject REF note``, ``/extend REF days reason``, ``/grant REF``, ``/refuse REF note``.

Whether the person may do it is the core's (``routing.transfers``, ``routing.extensions``); this
module finds who tapped and which case a button or command is about, and answers.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from gridline.bots.page_text import answer_phrase, answer_text
from gridline.bots.telegram.callbacks import LoopCallback
from gridline.bots.telegram.inputs import CallbackInput, Sender
from gridline.bots.telegram.runtime import Button, TelegramSendError
from gridline.domain.transfers import DEPARTMENT_PAGES, OPEN_TRANSFER_STATUSES
from gridline.i18n import t
from gridline.i18n.phrases import Phrase
from gridline.kernel.work import Work, in_transaction
from gridline.routing import extensions, transfers
from gridline.routing.action_result import ActionResult
from gridline.routing.loop_actions import act_on_loop
from gridline.routing.loop_grammar import LoopText, LoopVerb
from gridline.storage import cases
from gridline.storage import transfers as transfer_store
from gridline.storage.models import Case, Page, Staff

if TYPE_CHECKING:
    from gridline.bots.telegram.context import BotContext
    from gridline.bots.telegram.staff import StaffDesk

log = logging.getLogger(__name__)


class LoopDesk:
    def __init__(self, ctx: BotContext, staff_desk: StaffDesk) -> None:
        self.ctx = ctx
        self.services = ctx.services
        self.staff_desk = staff_desk

    # -- buttons -------------------------------------------------------------------------------------

    async def button(self, event: CallbackInput, tap: LoopCallback) -> None:
        found = await self.staff_desk._staff_and_page(event, tap.page_id)
        if found is None:
            return
        staff, page = found
        services, case_id, staff_id = self.services, page.case_id, staff.id or 0
        actor = transfers.Actor.of_staff(staff)
        ref = await in_transaction(services, _ref, case_id)
        result: ActionResult
        if tap.action == "reply":
            await self.ctx.answer(event, t("telegram.transfer.reply_hint", staff.lang, ref=ref), alert=True)
            return
        if tap.action == "extend":
            await self.ctx.answer(event, t("telegram.transfer.extend_hint", staff.lang, ref=ref), alert=True)
            return
        if tap.action == "return" and tap.arg == 0:
            await self._ask_reason(event, staff, page, ref)
            return
        if tap.action == "accept":
            result = await transfers.accept_transfer(services, case_id, staff_id, channel="telegram", page_id=page.id)
        elif tap.action == "return":
            result = await transfers.return_transfer(services, case_id, staff_id, tap.arg, channel="telegram")
        elif tap.action in ("approve", "reject"):
            result = await transfers.review_transfer(
                services, case_id, actor, approve=tap.action == "approve", channel="telegram"
            )
        elif tap.action in ("grant", "refuse"):
            result = await extensions.decide_extension(
                services, case_id, actor, approve=tap.action == "grant", channel="telegram"
            )
        else:  # transfer: to the first department for the case's category
            result = await transfers.transfer_case(services, case_id, actor, channel="telegram")
        await self.ctx.answer(event, answer_text(result), alert=not result.ok)
        if tap.action == "return" and event.message_id is not None:  # the reason question is answered
            await self._close_question(event, answer_text(result))
        elif result.ok and tap.action != "accept" and event.message_id is not None:
            await self.ctx.drop_buttons(event.sender.chat_id, event.message_id)

    async def _ask_reason(self, event: CallbackInput, staff: Staff, page: Page, ref: str) -> None:
        """退单: why? The configured reasons as buttons."""
        await self.ctx.answer(event, None)
        chat, signer, lang = event.sender.chat_id, self.ctx.signer, staff.lang
        reasons = self.services.settings.departments.return_reasons
        rows = tuple(
            (Button(f"{n} {transfers.return_reason_label(code, lang)}", signer.loop_button(chat, page.id or 0,
                                                                                          "return", n)),)
            for n, code in enumerate(reasons, 1)
        )  # fmt: skip
        await self.ctx.runtime.send_text(chat, t("telegram.transfer.return_ask", lang, ref=ref), rows)

    async def _close_question(self, event: CallbackInput, text: str) -> None:
        assert event.message_id is not None
        try:
            await self.ctx.runtime.edit_text(event.sender.chat_id, event.message_id, text)
        except TelegramSendError as exc:
            log.info("could not close the return question: %s", exc)

    # -- replies and commands ------------------------------------------------------------------------

    async def reply_to_page(self, sender: Sender, staff_id: int, page: Page, text: str) -> bool:
        """A department's reply to its transfer page is its 回单 (True when it was taken as one)."""
        if page.reason not in DEPARTMENT_PAGES:
            return False
        if not await in_transaction(self.services, _has_open_transfer, page.case_id):
            return False
        result = await transfers.reply_transfer(self.services, page.case_id, staff_id, text, channel="telegram")
        await self.ctx.say_phrase(sender, answer_phrase(result), await self.ctx.lang(sender))
        return True

    async def command(self, sender: Sender, staff_id: int, command: str, args: str) -> None:
        """``/reply W4RGMD 已修复``: the verb, the case's reference, the rest."""
        ref, _, rest = args.strip().partition(" ")
        verb: LoopVerb = command  # type: ignore[assignment]
        answer = await in_transaction(self.services, _command, self.services, staff_id, verb, ref.strip().upper(),
                                      rest.strip())  # fmt: skip
        await self.ctx.say_phrase(sender, answer, await self.ctx.lang(sender))


def _ref(work: Work, case_id: int) -> str:
    case = cases.get(work.session, case_id)
    return case.ref if case else "?"


def _has_open_transfer(work: Work, case_id: int) -> bool:
    return transfer_store.latest_in(work.session, case_id, [s.value for s in OPEN_TRANSFER_STATUSES]) is not None


def _command(work: Work, services: object, staff_id: int, verb: LoopVerb, ref: str, rest: str) -> Phrase:
    staff = work.session.get(Staff, staff_id)
    if staff is None or not ref:
        return Phrase("telegram.transfer.usage")
    case: Case | None = cases.by_ref(work.session, ref)
    if case is None:
        return Phrase("telegram.transfer.unknown_ref", {"ref": ref})
    loop = LoopText(verb, None, ref, rest, channel="telegram")
    return answer_phrase(act_on_loop(work, services, staff, case, None, loop))  # type: ignore[arg-type]
