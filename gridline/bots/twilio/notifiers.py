"""The SMS and voice notifiers: how pages and outbox messages leave Gridline through Twilio.

Both report what Twilio said right away (``sent`` with the sid, ``retry`` on a temporary failure,
``failed`` for good); later news arrives as status callbacks (see ``statuses`` and ``webhooks``).
Texts to opted-out numbers are refused (only the opt-out confirmation passes), and a number gets at
most ``twilio.max_auto_replies_per_hour`` replies an hour so two robots can never text each other
forever. Pages are never capped (a leader on duty must get every one), nor notices about the
resident's own cases, nor a staff member's answers to a recognised command (``staff_sms``).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

from gridline.bots.page_text import page_texts
from gridline.bots.twilio.client import SendResult, TwilioGateway
from gridline.bots.twilio.phone import to_e164
from gridline.bots.twilio.sms_text import render_message, render_page, sms_text
from gridline.bots.twilio.twiml import webhook_url
from gridline.kernel.notify import Delivery, MessageNotice, PageNotice, PageUpdate
from gridline.kernel.work import Work, in_transaction
from gridline.storage import people
from gridline.storage.pacing import MessageKind

if TYPE_CHECKING:
    from gridline.kernel.services import Services

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 30.0
def _delivery(result: SendResult) -> Delivery:
    if result.ok:
        return Delivery(state="sent", provider_message_id=result.sid)
    if result.temporary:
        return Delivery(state="retry", retry_after=RETRY_AFTER_SECONDS, error=result.error)
    return Delivery(state="failed", error=result.error, unreachable=result.permanent)


def _page_body(notice: PageNotice) -> str:
    """A page by SMS: its short text (one segment where possible, with the reply code)."""
    texts = page_texts(notice)
    return render_page(texts.short, texts.full)


class SmsNotifier:
    """Channel ``sms``: pages with a reply code, and messages with numbered choices."""

    channel = "sms"

    def __init__(self, services: Services, gateway: TwilioGateway) -> None:
        self.services = services
        self.gateway = gateway

    def _status_callback(self) -> str:
        return webhook_url(self.services.settings, "/status")

    def _target(self, raw: str) -> str | None:
        return to_e164(raw, self.services.settings.twilio.default_region)

    async def send_page(self, notice: PageNotice) -> Delivery:
        target = self._target(notice.target)
        if target is None:
            return Delivery(state="failed", error=f"not a phone number: {notice.target!r}", unreachable=True)
        body = _page_body(notice)
        return _delivery(await self.gateway.send_sms(target, body, status_callback=self._status_callback()))

    async def find_page(self, notice: PageNotice, since: datetime) -> Delivery | None:
        """Whether Twilio already has this page's text (an interrupted send); None when it has not."""
        target = self._target(notice.target)
        if target is None:
            return None
        sid = await self.gateway.find_sms(target, _page_body(notice), since=since)
        return Delivery(state="sent", provider_message_id=sid) if sid else None

    async def send_message(self, notice: MessageNotice) -> Delivery:
        target = self._target(notice.target)
        if target is None:
            return Delivery(state="failed", error=f"not a phone number: {notice.target!r}", unreachable=True)
        if notice.kind != MessageKind.OPT_CONFIRMATION and await self._opted_out(target):
            log.info("not texting %s: opted out (message %s)", target, notice.message_id)
            return Delivery(state="failed", error="recipient opted out (STOP)")
        cap = self.services.settings.twilio.max_auto_replies_per_hour
        # Only answers to what the number texted count: a loop of two robots is made of them. News of
        # the resident's own case (接单, 解决了吗？, the rating) follows what staff did, so a resident
        # who reported, confirmed and rated still gets the reference of the next report.
        counted = notice.kind == MessageKind.REPLY
        sent_this_hour = await self.services.state.hit(f"twilio:auto-replies:{target}", 3600) if counted else 0
        if cap and sent_this_hour > cap:
            log.warning("not texting %s: %d messages this hour, cap %d", target, sent_this_hour, cap)
            return Delivery(state="failed", error=f"automatic reply cap reached ({cap}/hour)")
        body = render_message(sms_text(notice), notice.options, notice.lang)
        return _delivery(await self.gateway.send_sms(target, body, status_callback=self._status_callback()))

    async def find_message(self, notice: MessageNotice, since: datetime) -> Delivery | None:
        """Whether Twilio already has this message's text (an interrupted send); None when it has not."""
        target = self._target(notice.target)
        if target is None:
            return None
        body = render_message(sms_text(notice), notice.options, notice.lang)
        sid = await self.gateway.find_sms(target, body, since=since)
        return Delivery(state="sent", provider_message_id=sid) if sid else None

    async def update_page(self, update: PageUpdate) -> None:
        # A text cannot be edited, and another text saying "someone else has it" is only noise.
        return None

    async def _opted_out(self, phone: str) -> bool:
        return await in_transaction(self.services, _opted_out, phone)


def _opted_out(work: Work, phone: str) -> bool:
    if not people.opted_out_of_sms(work.session, phone):
        return False
    # A leader who opted out as a resident still gets what their duty needs.
    return people.active_staff_by_phone(work.session, phone) is None


class VoiceNotifier:
    """Channel ``voice``: pages as phone calls (press 1 to acknowledge, 2 to escalate)."""

    channel = "voice"

    def __init__(self, services: Services, gateway: TwilioGateway, sms: SmsNotifier) -> None:
        self.services = services
        self.gateway = gateway
        self.sms = sms

    async def send_page(self, notice: PageNotice) -> Delivery:
        target = to_e164(notice.target, self.services.settings.twilio.default_region)
        if target is None:
            return Delivery(state="failed", error=f"not a phone number: {notice.target!r}", unreachable=True)
        # Twilio fetches what the call says when it is answered (voice_page), from the database.
        settings = self.services.settings
        result = await self.gateway.create_call(
            target,
            url=webhook_url(settings, f"/voice/page/{notice.page_id}"),
            status_callback=webhook_url(settings, "/status"),
            timeout_seconds=settings.twilio.dial_timeout_seconds,
        )
        return _delivery(result)

    async def send_message(self, notice: MessageNotice) -> Delivery:
        if notice.options:
            # A question by phone (a 平安守护 check-in): a call that says it and takes a key (voice_ask).
            target = to_e164(notice.target, self.services.settings.twilio.default_region)
            if target is None:
                return Delivery(state="failed", error=f"not a phone number: {notice.target!r}", unreachable=True)
            settings = self.services.settings
            result = await self.gateway.create_call(
                target,
                url=webhook_url(settings, f"/voice/ask/{notice.message_id}"),
                status_callback=webhook_url(settings, "/status"),
                timeout_seconds=settings.twilio.dial_timeout_seconds,
            )
            return _delivery(result)
        # A call cannot carry a message later; the same number gets it as a text.
        return await self.sms.send_message(notice)

    async def update_page(self, update: PageUpdate) -> None:
        return None
