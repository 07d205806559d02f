"""The Telegram notifier: pages with buttons, outbound messages, and edits of delivered pages.

Delivery problems are reported, not hidden: 429 → ``retry`` after Telegram's ``retry_after``; 5xx and
network errors → ``retry`` (the core backs off); 403 (blocked, never started) → ``failed`` and
``unreachable`` so the core moves on to the person's next channel.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from gridline.bots.page_text import updated_page_text
from gridline.bots.telegram import render
from gridline.bots.telegram.runtime import (
    Blocked,
    Keyboard,
    Rejected,
    RetryLater,
    SentMessage,
    TelegramSendError,
    TemporaryFailure,
)
from gridline.domain.lifecycle import OPEN_CASE_STATUSES, PageStatus
from gridline.kernel.notify import Delivery, MessageNotice, PageNotice, PageUpdate
from gridline.kernel.work import Work, in_transaction
from gridline.storage.models import Case, Page, Staff

if TYPE_CHECKING:
    from gridline.bots.telegram.bots import TelegramBot, TelegramBots
    from gridline.kernel.services import Services

log = logging.getLogger(__name__)

# 400 descriptions meaning the chat itself is unusable (not just this one message).
UNREACHABLE_HINTS = ("chat not found", "user is deactivated", "peer_id_invalid", "bot can't initiate")


class TelegramNotifier:
    channel = "telegram"

    def __init__(self, services: Services, bots: TelegramBots) -> None:
        self.services = services
        self.bots = bots

    async def send_page(self, notice: PageNotice) -> Delivery:
        bot = self.bots.for_notice(notice.bot_name, audience="staff")
        if bot is None:
            return _no_bot(notice.bot_name)
        rows = render.rows_for(notice.reason)
        keyboard = render.page_keyboard(bot.signer, notice.target, notice.page_id, notice.lang, rows)
        text = render.page_text(notice, self.services.settings, self.services.clock.now())
        return await self._deliver(bot, notice.target, text, keyboard)

    async def send_message(self, notice: MessageNotice) -> Delivery:
        bot = self.bots.for_notice(notice.bot_name, audience="residents")
        if bot is None:
            return _no_bot(notice.bot_name)
        keyboard = render.option_keyboard(bot.signer, notice.target, notice.options, notice.lang)
        delivery = await self._deliver(bot, notice.target, notice.text, keyboard)
        if delivery.state == "sent":
            for item in notice.media:
                await self._send_media(bot, notice.target, item)
        return delivery

    async def update_page(self, update: PageUpdate) -> Delivery | None:
        bot = self.bots.for_notice(update.bot_name, audience="staff")
        chat_id = update.provider_ref.get("chat_id")
        message_id = update.provider_ref.get("message_id")
        if bot is None or chat_id is None or message_id is None:
            log.info("page %s: nothing to edit on Telegram (ref %s)", update.page_id, update.provider_ref)
            return None
        keyboard = await self._follow_up_keyboard(bot, update)
        try:
            await bot.runtime.edit_text(chat_id, int(message_id), updated_page_text(update.page, update.note), keyboard)
        except Rejected as exc:
            if not exc.not_modified:
                log.warning("page %s: edit refused: %s", update.page_id, exc)
        except RetryLater as exc:
            return Delivery("retry", retry_after=exc.retry_after, error=str(exc))
        except TemporaryFailure as exc:
            return Delivery("retry", error=str(exc))
        except TelegramSendError as exc:
            # The page's state is already stored; a stale button is refused by act_on_case anyway.
            log.warning("page %s: edit failed: %s", update.page_id, exc)
        return None

    async def _follow_up_keyboard(self, bot: TelegramBot, update: PageUpdate) -> Keyboard:
        """The acknowledger keeps 已解决/上报/转交 while the case is open; everyone else loses the buttons."""
        found = await in_transaction(self.services, _follow_up_lang, update.page_id)
        if found is None:
            return ()
        lang, reason = found
        lang = lang or self.services.settings.default_language
        rows = render.rows_for(reason, follow_up=True)
        return render.page_keyboard(bot.signer, update.target, update.page_id, lang, rows)

    async def _deliver(self, bot: TelegramBot, chat_id: str, text: str, keyboard: Keyboard) -> Delivery:
        parts = render.split_text(text)
        try:
            sent: SentMessage | None = None
            for index, part in enumerate(parts):
                last = index == len(parts) - 1
                sent = await bot.runtime.send_text(chat_id, part, keyboard if last else ())
        except RetryLater as exc:
            return Delivery(state="retry", retry_after=exc.retry_after, error=str(exc))
        except TemporaryFailure as exc:
            return Delivery(state="retry", error=str(exc))
        except Blocked as exc:
            return Delivery(state="failed", unreachable=True, error=str(exc))
        except Rejected as exc:
            unreachable = any(hint in str(exc).lower() for hint in UNREACHABLE_HINTS)
            return Delivery(state="failed", unreachable=unreachable, error=str(exc))
        assert sent is not None
        return Delivery(
            state="sent",
            provider_message_id=f"{sent.chat_id}:{sent.message_id}",
            provider_ref={"chat_id": sent.chat_id, "message_id": sent.message_id, "bot_name": bot.name},
        )

    async def _send_media(self, bot: TelegramBot, chat_id: str, item: dict[str, object]) -> None:
        file_id = item.get("file_id")
        if item.get("kind") != "photo" or not file_id or item.get("bot_name") not in (None, bot.name):
            return  # file ids only work on the bot that received them
        try:
            await bot.runtime.send_photo(chat_id, str(file_id))
        except TelegramSendError as exc:
            log.warning("could not forward photo %s: %s", file_id, exc)


def _follow_up_lang(work: Work, page_id: int) -> tuple[str, str] | None:
    """The acknowledger's language ("" if unknown) and the page's reason when their page keeps
    buttons; None when it loses them."""
    page = work.session.get(Page, page_id)
    case = work.session.get(Case, page.case_id) if page else None
    if page is None or case is None or page.status != PageStatus.ACKNOWLEDGED:
        return None
    if case.status not in OPEN_CASE_STATUSES:
        return None
    staff = work.session.get(Staff, page.staff_id)
    return (staff.lang if staff else ""), page.reason


def _no_bot(name: str) -> Delivery:
    return Delivery(state="failed", unreachable=True, error=f"no Telegram bot named {name!r} is configured")
