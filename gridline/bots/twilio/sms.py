"""Texts to the SMS hotline, processed after the webhook has stored them.

Residents: 退订/STOP and 订阅/START first (Resident.sms_opted_out), then the core's commands
(状态/STATUS, 帮助/HELP) and everything else to the conversation core, whose replies go out through
the outbox and the SMS notifier. Staff: the core recognises them by their number and the reply
grammar takes over (``staff_sms``).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from gridline.bots.twilio.hotlines import opted_out_phrase
from gridline.bots.twilio.keywords import OptCommand, opt_command, resident_command
from gridline.bots.twilio.phone import to_e164
from gridline.bots.twilio.staff_mms import handle_staff_mms
from gridline.bots.twilio.staff_sms import handle_staff_sms
from gridline.core.conversation import handle_inbound
from gridline.edge.text import ascii_int
from gridline.i18n import language_of_text
from gridline.i18n.phrases import Phrase
from gridline.kernel.messages import InboundMessage
from gridline.kernel.outbox import queue_message
from gridline.kernel.work import Work, in_transaction
from gridline.storage import people
from gridline.storage.models import InboundEvent, Message
from gridline.storage.pacing import MessageKind

if TYPE_CHECKING:
    from gridline.kernel.services import Services
    from gridline.settings import Settings

log = logging.getLogger(__name__)
MAX_MEDIA = 10


def inbound_message(payload: dict[str, Any], phone: str) -> InboundMessage:
    """The channel-neutral message for one inbound SMS webhook's form."""
    body = str(payload.get("Body") or "").strip()
    media = []
    count = ascii_int(str(payload.get("NumMedia") or ""), highest=MAX_MEDIA) or 0
    for i in range(min(count, MAX_MEDIA)):
        url = payload.get(f"MediaUrl{i}")
        if url:
            media.append({"kind": "photo", "url": url, "content_type": payload.get(f"MediaContentType{i}", "")})
    command = resident_command(body)
    return InboundMessage(
        channel="sms",
        external_id=phone,
        # The words stay with a command too: the log shows what was texted, the core obeys the command.
        text=body or None,
        provider_message_id=str(payload.get("MessageSid") or "") or None,
        command=command[0] if command else None,
        command_args=command[1] if command else "",
        media=media,
        # An SMS carries no language; the words do (only a new resident's language is set from it).
        lang=language_of_text(body),
    )


def read_sms(event: InboundEvent, region: str) -> InboundMessage | None:
    """The bare facts of a stored SMS for ``core.rescue`` (None for other Twilio events)."""
    phone = to_e164(str(event.payload.get("From") or ""), region) if event.provider == "twilio:sms" else None
    if phone is None:
        return None
    body = str(event.payload.get("Body") or "").strip()
    return InboundMessage(channel="sms", external_id=phone, text=body or None, provider_message_id=event.event_key)


async def process_sms(services: Services, event: InboundEvent) -> None:
    """Process one stored inbound SMS (the inbox retries this if it raises)."""
    payload = event.payload
    phone = to_e164(str(payload.get("From") or ""), services.settings.twilio.default_region)
    if phone is None:
        log.warning("inbound SMS %s from an unusable number %r dropped", event.event_key, payload.get("From"))
        return
    msg = inbound_message(payload, phone)
    opt = opt_command(msg.text)
    if opt is not None and await apply_opt_command(services, msg, opt):
        return
    outcome = await handle_inbound(services, msg)
    if outcome.staff_id is not None:
        body = str(payload.get("Body") or "")
        if msg.media:  # photos from staff are evidence of the fix (staff_mms)
            await handle_staff_mms(services, outcome.staff_id, phone, body, msg.media, outcome.message_id)
            return
        await handle_staff_sms(services, outcome.staff_id, phone, body, outcome.message_id)


async def apply_opt_command(services: Services, msg: InboundMessage, opt: OptCommand) -> bool:
    """STOP / START: set the resident's flag and confirm (the one text an opted-out number gets).

    False for staff: duty pages cannot be unsubscribed by text, their text goes to the staff grammar.
    """
    confirmation_id = await in_transaction(services, _apply_opt_command, msg, opt, services.settings)
    if confirmation_id is None:
        return False
    # The confirmation goes to a number that may just have opted out: its row's kind
    # (``MessageKind.OPT_CONFIRMATION``, committed with it) is what lets it through.
    await services.jobs.enqueue("deliver_message", f"msg:{confirmation_id}:0", None, message_id=confirmation_id)
    return True


def _apply_opt_command(work: Work, msg: InboundMessage, opt: OptCommand, settings: Settings) -> int | None:
    sender = people.identify(work.session, msg, work.now)
    if sender.staff is not None:
        return None
    assert sender.resident is not None
    # Every household record with this number: the person behind the phone said it.
    for resident in people.residents_with_phone(work.session, msg.external_id):
        resident.sms_opted_out = opt == "stop"
    sender.resident.sms_opted_out = opt == "stop"
    lang = sender.resident.lang
    work.session.add(
        Message(
            conversation_id=sender.conversation.id,
            direction="in",
            channel="sms",
            sender_kind="resident",
            resident_id=sender.resident.id,
            identity_id=sender.identity.id,
            provider_message_id=msg.provider_message_id,
            text=msg.text,
            lang=lang,
            created_at=work.now,
            status="received",
        )
    )
    confirmation = queue_message(
        work,
        channel="sms",
        identity=sender.identity,
        phrase=opted_out_phrase(settings) if opt == "stop" else Phrase("twilio.sms.opted_in"),
        lang=lang,
        resident_id=sender.resident.id,
        conversation_id=sender.conversation.id,
        deliver=False,
        hold=True,  # its job waits for the opt-out exemption (apply_opt_command)
        kind=MessageKind.OPT_CONFIRMATION,
    )
    log.info("resident %s texted %s", sender.resident.id, opt.upper())
    return confirmation.id
