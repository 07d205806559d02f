"""Twilio: the SMS hotline, the voice hotline, and paging leaders by SMS and by phone.

``install_routes`` adds the webhooks under ``/webhooks/twilio`` (sms, voice, voice/..., status);
``install_channel`` registers the ``sms`` and ``voice`` notifiers and the ``twilio`` inbound
processor. See docs/twilio.md.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from fastapi import APIRouter, Depends, FastAPI

from gridline.bots.twilio import voice_ask, voice_followup, voice_hotline, voice_page, voice_visit, webhooks
from gridline.bots.twilio.client import TwilioGateway
from gridline.bots.twilio.notifiers import SmsNotifier, VoiceNotifier
from gridline.bots.twilio.signature import require_signed_form
from gridline.bots.twilio.sms import process_sms, read_sms
from gridline.bots.twilio.twiml import WEBHOOK_PREFIX
from gridline.bots.twilio.voice_hotline import turns_of

if TYPE_CHECKING:
    from gridline.kernel.services import Services
    from gridline.storage.models import InboundEvent

log = logging.getLogger(__name__)


async def process_event(services: Services, event: InboundEvent) -> None:
    """The ``twilio`` inbound processor: texts are processed here, after the webhook stored them.

    Voice steps are answered while the call waits (TwiML cannot wait for a job); their inbox rows
    are the durable record of what the caller said and need no further processing.
    """
    if event.provider == "twilio:sms":
        await process_sms(services, event)


def install_channel(services: Services) -> None:
    """Register the Twilio gateway (``services.parts``), the notifiers and the inbound processor."""
    gateway = services.parts.get_or_make(TwilioGateway, lambda: TwilioGateway(services.settings.twilio))
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
    services.close_hooks.append(turns_of(services).aclose)


def install_routes(app: FastAPI, services: Services) -> None:
    """Add the webhooks under ``/webhooks/twilio``: the voice routes, and the lane for sms and status."""
    # The signature first, before the routes' parameters are even parsed (403, never 422 unsigned).
    router = APIRouter(prefix=WEBHOOK_PREFIX, tags=["twilio"], dependencies=[Depends(require_signed_form)])
    router.include_router(voice_hotline.router)
    router.include_router(voice_page.router)
    router.include_router(voice_followup.router)
    router.include_router(voice_ask.router)
    router.include_router(voice_visit.router)
    app.include_router(router)
    webhooks.install_lanes(app, services)
