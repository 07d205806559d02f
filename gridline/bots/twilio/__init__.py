"""Twilio: the SMS hotline, the voice hotline, and paging leaders by SMS and by phone.

``install`` adds the webhooks under ``/webhooks/twilio`` (sms, voice, voice/..., status), registers
the ``sms`` and ``voice`` notifiers and the ``twilio`` inbound processor. See docs/twilio.md.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from fastapi import APIRouter, FastAPI

from gridline.bots.twilio import voice_ask, voice_hotline, voice_page, webhooks
from gridline.bots.twilio.client import TwilioGateway
from gridline.bots.twilio.notifiers import SmsNotifier, VoiceNotifier
from gridline.bots.twilio.sms import process_sms, read_sms
from gridline.bots.twilio.twiml import WEBHOOK_PREFIX
from gridline.bots.twilio.voice_hotline import turns_of

if TYPE_CHECKING:
    from gridline.core.services import Services
    from gridline.storage.models import InboundEvent

log = logging.getLogger(__name__)


async def process_event(services: Services, event: InboundEvent) -> None:
    """The ``twilio`` inbound processor: texts are processed here, after the webhook stored them.

    Voice steps are answered while the call waits (TwiML cannot wait for a job); their inbox rows
    are the durable record of what the caller said and need no further processing.
    """
    if event.provider == "twilio:sms":
        await process_sms(services, event)


def install(app: FastAPI, services: Services) -> None:
    """Add the Twilio webhooks, notifiers and inbound processor to ``app`` / ``services``."""
    gateway = services.extras.get("twilio_gateway")
    if gateway is None:
        gateway = services.extras["twilio_gateway"] = TwilioGateway(services.settings.twilio)
    if gateway.configured:
        sms = SmsNotifier(services, gateway)
        services.notifiers.register(sms)
        services.notifiers.register(VoiceNotifier(services, gateway, sms))
    else:
        # Without an account nothing may try api.twilio.com: the core's log notifier stands in and
        # pages fall through to the person's next channel at once.
        log.info("twilio is not configured: texts and calls will fail over to other channels")
    services.inbound_processors["twilio"] = process_event
    services.inbound_readers["twilio"] = lambda event: read_sms(event, services.settings.twilio.default_region)
    turns = turns_of(services)
    services.extras.setdefault("close_hooks", []).append(turns.aclose)

    router = APIRouter(prefix=WEBHOOK_PREFIX, tags=["twilio"])
    router.include_router(webhooks.router)
    router.include_router(voice_hotline.router)
    router.include_router(voice_page.router)
    router.include_router(voice_ask.router)
    app.include_router(router)
