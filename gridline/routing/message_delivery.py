"""Delivery of outbox messages (replies and notices to residents and staff) through the notifiers.

Like pages: claimed (queued → sending), handed to the channel's notifier, then sent, retried with
backoff, or failed (an unreachable identity is marked so).

Bulk messages (broadcasts, sweeps, check-ins: ``storage.pacing``) leave at their send time in their
sender's lane. One without a send time yet, or whose time passed more than ``pacing.late_seconds``
ago (the workers were down), is given the lane's next free time when its job claims it, so a restart
spreads the backlog at the lane's rate instead of sending it in one burst. Their retries take a lane
time too. On Telegram a bulk message also waits a chat interval after a reply or page to the same
chat (``kernel.outbox.bulk_wait``). Nothing else waits for the lanes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from gridline.domain.lifecycle import MESSAGE, MessageStatus
from gridline.kernel.messages import Option
from gridline.kernel.notify import Delivery, MessageNotice
from gridline.kernel.outbox import bulk_wait, pace
from gridline.kernel.work import Work, in_transaction
from gridline.routing import broadcasts
from gridline.routing.claims import INTERRUPTED, earlier_message_send, renewed_claim
from gridline.routing.delivery import backoff
from gridline.storage import cases, outbox, pacing
from gridline.storage.models import ChannelIdentity, Message

if TYPE_CHECKING:
    from gridline.kernel.services import Services
    from gridline.settings import Settings

log = logging.getLogger(__name__)


async def deliver_message(services: Services, message_id: int) -> str:
    """Claim the message, send it outside any transaction, then record what the provider said."""
    claimed = await in_transaction(services, claim_message, message_id, services.settings)
    if isinstance(claimed, str):
        return claimed
    notice = claimed.notice
    notifier = services.notifiers.get(notice.channel)
    if notifier is None:
        delivery = Delivery("sent", error="no notifier: kept in the conversation log only")
    else:
        earlier = (
            await earlier_message_send(services, notifier, notice, claimed.created_at) if claimed.interrupted else None
        )
        try:
            async with renewed_claim(services, Message, message_id, "sending"):
                delivery = earlier or await notifier.send_message(notice)
        except Exception as exc:
            log.exception("notifier %s failed on message %s", notice.channel, message_id)
            delivery = Delivery("retry", error=f"{type(exc).__name__}: {exc}"[:300])
    return await in_transaction(
        services, record_message_delivery, message_id, delivery, services.settings.jobs.max_delivery_attempts,
        services.settings,
    )


@dataclass(frozen=True)
class ClaimedMessage:
    notice: MessageNotice
    interrupted: bool  # an earlier send was cut off: ask the provider before sending again
    created_at: datetime


def claim_message(work: Work, message_id: int, settings: Settings | None = None) -> ClaimedMessage | str:
    """Claim a queued message that is due and say what to send; else why not (someone else has it,
    it is not due yet, or — a bulk message — it was given a later send time in its lane)."""
    message = outbox.claim_for_sending(work.session, message_id, now=work.now)
    if message is None:
        waiting = outbox.get(work.session, message_id)
        if waiting is not None and waiting.status == "queued" and waiting.next_attempt_at is not None:
            # Run early (a job queued before the message got its send time): run again then.
            when = waiting.next_attempt_at
            work.job("deliver_message", f"msg:{message_id}:{waiting.attempts}@{when.timestamp():.3f}", when,
                     message_id=message_id)
            return "not due"
        return "not claimed"
    identity = work.session.get(ChannelIdentity, message.identity_id) if message.identity_id else None
    slot: datetime | None = None
    if settings is not None and pacing.is_paced(message.kind) and _needs_new_time(message, work, settings):
        pace(work, settings, [message], jobs=False)
        slot = message.next_attempt_at
    # Telegram's one message a second per chat: bulk waits after a reply or page to the chat.
    slot = bulk_wait(work, settings, message, identity) or slot
    if slot is not None and slot > work.now:
        MESSAGE.move(message, MessageStatus.QUEUED, work.now)
        message.claimed_at = None
        work.job("deliver_message", f"msg:{message_id}:{message.attempts}@{slot.timestamp():.3f}", slot,
                 message_id=message_id)
        return "paced"
    interrupted = message.error == INTERRUPTED
    case = cases.get(work.session, message.case_id) if message.case_id else None
    target = (identity.chat_id or identity.external_id) if identity else ""
    notice = MessageNotice(
        message_id=message_id,
        channel=message.channel,
        target=target,
        bot_name=identity.bot_name if identity else "",
        text=message.text or "",
        lang=message.lang,
        options=tuple(Option(o["label"], o["data"]) for o in message.options),
        case_ref=case.ref if case else None,
        kind=message.kind,
        key=message.text_key,
        params=dict(message.text_params or {}),
    )
    return ClaimedMessage(notice, interrupted, message.created_at)


def _needs_new_time(message: Message, work: Work, settings: Settings) -> bool:
    """A bulk message without a send time, or whose time passed too long ago to keep."""
    if message.next_attempt_at is None:
        return True
    return (work.now - message.next_attempt_at).total_seconds() > settings.pacing.late_seconds


def record_message_delivery(
    work: Work, message_id: int, delivery: Delivery, max_attempts: int, settings: Settings | None = None
) -> str:
    """Sent, retry later, or failed (an unreachable identity is marked so)."""
    message = outbox.get(work.session, message_id)
    assert message is not None
    message.attempts += 1
    message.error = delivery.error
    if delivery.provider_message_id:
        message.provider_message_id = delivery.provider_message_id
    if delivery.state in ("sent", "delivered"):
        MESSAGE.move(message, MessageStatus(delivery.state), work.now)
        broadcasts.after_delivery(work, message)
        return message.status
    if delivery.state == "retry" and message.attempts < max_attempts:
        delay = backoff(message.attempts, delivery.retry_after)
        MESSAGE.move(message, MessageStatus.QUEUED, work.now)
        if settings is not None and pacing.is_paced(message.kind):
            pace(work, settings, [message], earliest=work.now + timedelta(seconds=delay))
            return f"retry at {message.next_attempt_at}"
        message.next_attempt_at = work.now + timedelta(seconds=delay)
        work.job(
            "deliver_message",
            f"msg:{message.id}:{message.attempts}",
            message.next_attempt_at,
            message_id=message.id,
        )
        return f"retry in {delay:.0f}s"
    MESSAGE.move(message, MessageStatus.FAILED, work.now)
    if delivery.unreachable and message.identity_id:
        identity = work.session.get(ChannelIdentity, message.identity_id)
        if identity is not None:
            identity.unreachable = True
    broadcasts.after_delivery(work, message)
    return "failed"
