"""The last resort for a message processing cannot handle: it is kept, answered and triaged anyway.

A provider got its 200 when the event was stored, so it will not send again. When the channel's
processor has failed ``RESCUE_AFTER_ATTEMPTS`` times, the inbox asks the channel's reader for the
bare facts (who, on which channel, what text) and this module writes them the plain way: a message
row with the error, a polite answer through the outbox, and a triage case the supervisors see. It
uses as little as possible of what may have failed: no NLU, no conversation state, no display name.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from gridline.core.inbound_log import store_inbound
from gridline.domain.explanations import Reason, because
from gridline.edge.text import clean_text
from gridline.i18n import t
from gridline.i18n.phrases import Phrase
from gridline.kernel.messages import InboundMessage
from gridline.kernel.outbox import queue_message
from gridline.kernel.work import Work, in_transaction
from gridline.nlu.types import OTHER_CATEGORY
from gridline.routing.cases import CaseDraft, find_duplicate, join_case, open_case
from gridline.storage.people import identify

if TYPE_CHECKING:
    from gridline.kernel.services import Services

log = logging.getLogger(__name__)

# Two retries first: a database blip heals by itself; a message that fails three times will not.
RESCUE_AFTER_ATTEMPTS = 3


class Unprocessable(Exception):
    """Raised by a processor for an event no retry can make readable (a signed but malformed update):
    the inbox rescues it at once, or — when it carries no message at all — records it as processed."""


def bare(msg: InboundMessage) -> InboundMessage:
    """Only what identifies the sender and what they said, cleaned again."""
    text = clean_text(msg.text)[:4000] if msg.text else None
    return InboundMessage(
        channel=msg.channel,
        external_id=clean_text(msg.external_id)[:128],
        text=text,
        bot_name=msg.bot_name,
        provider_message_id=msg.provider_message_id,
        chat_id=msg.chat_id,
        received_at=msg.received_at,
    )


async def rescue_inbound(services: Services, msg: InboundMessage, error: str) -> int | None:
    """Keep, answer and triage ``msg`` without the normal processing; returns the message row's id."""
    msg = bare(msg)
    message_id = await in_transaction(services, _rescue, services, msg, error)
    log.warning("message %s on %s could not be processed and was sent to triage: %s", message_id, msg.channel, error)
    return message_id


def _rescue(work: Work, services: Services, msg: InboundMessage, error: str) -> int | None:
    sender = identify(work.session, msg, work.now)
    inbound = store_inbound(work, sender, msg, None)
    inbound.error = f"not processed: {error}"[:500]
    if sender.staff is not None or sender.resident is None:
        inbound.sender_kind = "staff" if sender.staff is not None else inbound.sender_kind
        return inbound.id
    lang = sender.lang
    draft = CaseDraft(
        category=OTHER_CATEGORY,
        priority="normal",
        grid_code=None,
        summary=msg.text or t("core.rescue.no_text", lang),
        channel=msg.channel,
        resident_id=sender.resident.id,
        explanation=[{**because("grid", Reason.PROCESSING_FAILED, error=error[:400]), "grid": None}],
    )
    case = find_duplicate(work.session, services.settings, draft, work.now)
    if case is not None:
        join_case(work, case, resident_id=draft.resident_id, summary=draft.summary)
    else:
        case = open_case(work, services.settings, draft)
    inbound.case_id = case.id
    queue_message(
        work,
        channel=msg.channel,
        identity=sender.identity,
        phrase=Phrase("core.rescue.apology", {"ref": case.ref}),
        lang=lang,
        case_id=case.id,
        resident_id=sender.resident.id,
        conversation_id=sender.conversation.id,
    )
    return inbound.id
