"""The SMS webhook and the status callback webhook (the voice ones are in ``voice_hotline`` and
``voice_page``). Every one checks the signature first (``signature``)."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request, Response
from twilio.twiml.messaging_response import MessagingResponse

from gridline.bots.twilio.signature import read_signed_form
from gridline.bots.twilio.statuses import call_update, message_update
from gridline.core.inbox import receive_event
from gridline.kernel.services import Services
from gridline.routing.provider_status import record_provider_status

log = logging.getLogger(__name__)
TWIML = "application/xml"

router = APIRouter()


def services_of(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


@router.post("/sms")
async def inbound_sms(request: Request) -> Response:
    """Store the text (once per MessageSid) and answer at once; processing happens afterwards."""
    services = services_of(request)
    form = await read_signed_form(request, services.settings)
    sid = form.get("MessageSid") or form.get("SmsSid")
    if not sid or not form.get("From"):
        return Response("missing MessageSid or From", status_code=400)
    _, is_new = await receive_event(services, "twilio:sms", sid, form.fields)
    if not is_new:
        log.info("inbound SMS %s received again; already stored", sid)
    # The replies go out through the REST API (the outbox), so they are logged and retried.
    return Response(str(MessagingResponse()), media_type=TWIML)


@router.post("/status")
async def status_callback(request: Request) -> Response:
    """A message or call status. Applied at once: the provider's order decides (``statuses``)."""
    services = services_of(request)
    form = await read_signed_form(request, services.settings)
    is_message = bool(form.get("MessageSid") or form.get("SmsSid"))
    update = message_update(form.fields) if is_message else call_update(form.fields)
    if update is None:
        return Response("not a status callback", status_code=400)
    outcome = await record_provider_status(services, update.sid, update.status, update.seq, update.error)
    log.debug("status %s %s (seq %s) → %s", update.sid, update.raw, update.seq, outcome)
    return Response(status_code=204)
