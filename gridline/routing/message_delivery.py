"""Delivery of outbox messages (replies and notices to residents and staff): their policy on the
outbox engine (``kernel.outbox_engine``), the same machine pages run on.

Claimed (queued → sending), handed to the channel's notifier, then sent, retried with backoff, or
failed (an unreachable identity is marked so).

Bulk messages (broadcasts, sweeps, check-ins: ``storage.pacing``) leave at their send time in their
sender's lane. One without a send time yet, or whose time passed more than ``pacing.late_seconds``
ago (the workers were down), is given the lane's next free time when its job claims it, so a restart
spreads the backlog at the lane's rate instead of sending it in one burst. Their retries take a lane
time too. On Telegram a bulk message also waits a chat interval after a reply or page to the same
chat (``kernel.outbox.bulk_wait``). Nothing else waits for the lanes.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlmodel import Session

from gridline.domain.lifecycle import MESSAGE, MessageStatus
from gridline.kernel.messages import options_from_json
from gridline.kernel.notify import Delivery, MessageNotice, Notifier
from gridline.kernel.outbox import bulk_wait, chat_of, direct_send, pace
from gridline.kernel.outbox_engine import DELIVERED_RANK, FAILED_STATUSES, Claimed, claim_with_row, deliver, retry_at
from gridline.kernel.work import Work
from gridline.routing import broadcasts
from gridline.storage import outbox, pacing
from gridline.storage.models import ChannelIdentity, Message
from gridline.storage.outbox import ClaimedMessage, IdentityFacts

if TYPE_CHECKING:
    from gridline.kernel.services import Services
    from gridline.settings import Settings

log = logging.getLogger(__name__)


async def deliver_message(services: Services, message_id: int) -> str:
    """Claim the message, send it outside any transaction, then record what the provider said."""
    return await deliver(services, MESSAGES, message_id)


class MessagePolicy:
    """Outbox messages on the outbox engine: a channel without a notifier keeps the message in the
    conversation log only, bulk messages retry at a time in their lane, an identity that cannot be
    reached is marked so, and a broadcast learns when its last message is settled."""

    kind = "message"
    model = Message
    lifecycle = MESSAGE
    sending = MessageStatus.SENDING.value
    waiting = MessageStatus.QUEUED.value

    def claim(self, work: Work, row_id: int, settings: Settings) -> Claimed[MessageNotice] | str:
        return claim_message(work, row_id, settings)

    def get(self, session: Session, row_id: int) -> Message | None:
        return outbox.get(session, row_id)

    def by_provider_message_id(self, session: Session, provider_message_id: str) -> Message | None:
        return outbox.by_provider_message_id(session, provider_message_id)

    def record_sent(self, work: Work, row_id: int, delivery: Delivery) -> bool:
        # A broadcast's message is left to the long way: its broadcast may be done now (``settled``).
        return outbox.record_sent(work.session, row_id, state=delivery.state, error=delivery.error,
                                  provider_message_id=delivery.provider_message_id)

    def without_notifier(self, channel: str) -> Delivery:
        return Delivery("sent", error="no notifier: kept in the conversation log only")

    async def send(self, notifier: Notifier, notice: MessageNotice) -> Delivery:
        return await notifier.send_message(notice)

    async def find(self, notifier: Notifier, notice: MessageNotice, since: datetime) -> Delivery | None:
        find = getattr(notifier, "find_message", None)
        if find is None:
            raise LookupError(notice.channel)
        found: Delivery | None = await find(notice, since)
        return found

    def noted(self, row: Message, delivery: Delivery) -> None:
        return None  # a message is never edited later: its provider id is all it keeps

    def settled(self, work: Work, row: Message) -> None:
        broadcasts.after_delivery(work, row)

    def retry_later(self, work: Work, row: Message, delay: float, settings: Settings) -> str:
        if pacing.is_paced(row.kind):
            pace(work, settings, [row], earliest=work.now + timedelta(seconds=delay))
            return f"retry at {row.next_attempt_at}"
        return retry_at(work, row, delay, "deliver_message", "msg", message_id=row.id)

    def failed(self, work: Work, row: Message, delivery: Delivery) -> None:
        if delivery.unreachable and row.identity_id:
            identity = work.session.get(ChannelIdentity, row.identity_id)
            if identity is not None:
                identity.unreachable = True

    def provider_seq(self, row: Message) -> int:
        return row.status_seq

    def provider_news(self, work: Work, row: Message, status: str, rank: int, seq: int, error: str | None) -> str:
        """Sent, delivered or failed as the provider says, where the message's lifecycle allows it
        (a callback about a cancelled message changes nothing)."""
        row.status_seq = seq
        wanted = MessageStatus.FAILED if status in FAILED_STATUSES else (
            MessageStatus.DELIVERED if rank >= DELIVERED_RANK else MessageStatus.SENT
        )
        if not MESSAGE.allows(row.status, wanted):
            return f"ignored: {row.status} → {wanted}"
        MESSAGE.move(row, wanted, work.now)
        if error:
            row.error = error[:500]
        return row.status


MESSAGES = MessagePolicy()


def claim_message(work: Work, message_id: int, settings: Settings | None = None) -> Claimed[MessageNotice] | str:
    """Claim a queued message that is due and say what to send; else why not (someone else has it,
    it is not due yet, or — a bulk message — it was given a later send time in its lane)."""
    claimed = outbox.claim_with_facts(work.session, message_id, now=work.now)  # with its identity and case ref
    if claimed is None:
        waiting = outbox.get(work.session, message_id)
        if waiting is not None and waiting.status == "queued" and waiting.next_attempt_at is not None:
            # Run early (a job queued before the message got its send time): run again then.
            when = waiting.next_attempt_at
            work.job("deliver_message", f"msg:{message_id}:{waiting.attempts}@{when.timestamp():.3f}", when,
                     message_id=message_id)
            return "not due"
        return "not claimed"
    message, identity, case_ref = claimed
    if pacing.is_paced(message.kind):
        if _paced_later(work, message_id, settings):
            return "paced"
    elif settings is not None and (chat := chat_of(identity)) is not None:
        # Telegram's one message a second per chat: this reply or notice is the chat's direct send
        # (its bulk waits a chat interval after it).
        direct_send(work, settings, *chat)
    return Claimed.of(message, message.channel, _notice(message_id, message, identity, case_ref))


def claim_new_message(
    work: Work, message: Message, identity: ChannelIdentity, case_ref: str | None, settings: Settings
) -> None:
    """``message`` (a reply or notice to ``identity``, due now) was just written claimed
    (``kernel.outbox.queue_message(claimed=True)``): what :func:`claim_message` would send, made
    after the commit (``kernel.outbox_engine.claim_with_row``) without the claim's transaction and
    its reads of the identity and the case's reference."""
    if (chat := chat_of(identity)) is not None:
        direct_send(work, settings, *chat)  # the chat's bulk waits a chat interval after it
    notice = _notice(message.id or 0, message, identity, case_ref)
    claim_with_row(work, MESSAGES, f"msg:{message.id}:0", message.id or 0, Claimed.of(message, message.channel, notice))


def _notice(
    message_id: int, message: Message | ClaimedMessage, identity: ChannelIdentity | IdentityFacts | None,
    case_ref: str | None,
) -> MessageNotice:
    """What the notifier sends for ``message`` to ``identity`` (none: a message whose identity is gone)."""
    return MessageNotice(
        message_id=message_id,
        channel=message.channel,
        target=(identity.chat_id or identity.external_id) if identity else "",
        bot_name=identity.bot_name if identity else "",
        text=message.text or "",
        lang=message.lang,
        options=options_from_json(message.options),
        case_ref=case_ref,
        kind=message.kind,
        key=message.text_key,
        params=dict(message.text_params or {}),
    )


def _paced_later(work: Work, message_id: int, settings: Settings | None) -> bool:
    """A bulk message just claimed: given its lane time when it has none (or a stale one), and a
    chat time after the chat's last reply or page (Telegram); if that is later than now it goes
    back to the queue with its job then (True)."""
    message = outbox.get(work.session, message_id)  # the row itself: its send time may change
    assert message is not None
    identity = work.session.get(ChannelIdentity, message.identity_id) if message.identity_id else None
    slot: datetime | None = None
    if settings is not None and _needs_new_time(message, work, settings):
        pace(work, settings, [message], jobs=False)
        slot = message.next_attempt_at
    slot = bulk_wait(work, settings, message, identity) or slot
    if slot is None or slot <= work.now:
        return False
    MESSAGE.move(message, MessageStatus.QUEUED, work.now)
    message.claimed_at = None
    work.job("deliver_message", f"msg:{message_id}:{message.attempts}@{slot.timestamp():.3f}", slot,
             message_id=message_id)
    return True


def _needs_new_time(message: Message, work: Work, settings: Settings) -> bool:
    """A bulk message without a send time, or whose time passed too long ago to keep."""
    if message.next_attempt_at is None:
        return True
    return (work.now - message.next_attempt_at).total_seconds() > settings.pacing.late_seconds
