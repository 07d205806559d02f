"""Delivery of outbox messages (replies and notices to residents and staff) through the notifiers.

Like pages: claimed (queued → sending), handed to the channel's notifier, then sent, retried with
backoff, or failed (an unreachable identity is marked so).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import update
from sqlmodel import col

from gridline.core.messages import Option
from gridline.core.notify import Delivery, MessageNotice
from gridline.core.work import unit_of_work
from gridline.routing.claims import renewed_claim
from gridline.routing.delivery import backoff
from gridline.storage.models import Case, ChannelIdentity, Message

if TYPE_CHECKING:
    from gridline.core.services import Services

log = logging.getLogger(__name__)


async def deliver_message(services: Services, message_id: int) -> str:
    async with unit_of_work(services) as work:
        claimed = work.session.execute(
            update(Message)
            .where(col(Message.id) == message_id, col(Message.status) == "queued")
            .values(status="sending", claimed_at=work.now)
        ).rowcount  # type: ignore[attr-defined]
        if claimed != 1:
            return "not claimed"
        message = work.session.get(Message, message_id, populate_existing=True)
        assert message is not None
        identity = work.session.get(ChannelIdentity, message.identity_id) if message.identity_id else None
        case = work.session.get(Case, message.case_id) if message.case_id else None
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
        )
    notifier = services.notifiers.get(notice.channel)
    if notifier is None:
        delivery = Delivery("sent", error="no notifier: kept in the conversation log only")
    else:
        try:
            async with renewed_claim(services, Message, message_id, "sending"):
                delivery = await notifier.send_message(notice)
        except Exception as exc:
            log.exception("notifier %s failed on message %s", notice.channel, message_id)
            delivery = Delivery("retry", error=f"{type(exc).__name__}: {exc}"[:300])
    async with unit_of_work(services) as work:
        message = work.session.get(Message, message_id)
        assert message is not None
        message.attempts += 1
        message.error = delivery.error
        if delivery.provider_message_id:
            message.provider_message_id = delivery.provider_message_id
        if delivery.state in ("sent", "delivered"):
            message.status = delivery.state
            return message.status
        if delivery.state == "retry" and message.attempts < services.settings.jobs.max_delivery_attempts:
            delay = backoff(message.attempts, delivery.retry_after)
            message.status = "queued"
            message.next_attempt_at = work.now + timedelta(seconds=delay)
            work.job(
                "deliver_message",
                f"msg:{message.id}:{message.attempts}",
                message.next_attempt_at,
                message_id=message.id,
            )
            return f"retry in {delay:.0f}s"
        message.status = "failed"
        if delivery.unreachable and message.identity_id:
            identity = work.session.get(ChannelIdentity, message.identity_id)
            if identity is not None:
                identity.unreachable = True
        return "failed"
