"""A call Gridline placed that asks for one key: a page (``voice_page``: 按1接单 / 按2上报) or a
question (``voice_ask``: a check-in's 报平安请按1). Both webhooks take the same turn — the signed form,
the ``CallSid``, an answering machine hung up on and reported failed, the turn answered once however
often Twilio retries it (``voice_turns``) — and the same prompt: what to say inside one
``<Gather numDigits="1">``, silence coming back with ``quiet=1``. Only what is said and what a key
does are theirs."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from fastapi import Request, Response

from gridline.bots.twilio import twiml
from gridline.bots.twilio.signature import read_signed_form
from gridline.bots.twilio.statuses import MACHINE_VERDICT_SEQ, is_machine
from gridline.bots.twilio.voice_hotline import step_key, turns_of
from gridline.bots.twilio.webhooks import TWIML, services_of
from gridline.routing.provider_status import record_provider_status

if TYPE_CHECKING:
    from gridline.kernel.services import Services

# How often a call says its question before it gives up (silence or a key that means nothing).
MAX_PROMPTS = 3

# What a turn does once the call is known to be a person's: (services, CallSid, the key pressed) → TwiML.
KeyStep = Callable[["Services", str, str], Awaitable[str]]


def key_prompt(services: Services, path: str, lang: str, texts: list[str], n: int) -> str:
    """Say ``texts`` and wait for one key, posted to ``path`` (try ``n``; silence: ``quiet=1``)."""
    step = secrets.token_hex(4)
    return twiml.prompt(
        services.settings, lang, texts,
        action=twiml.webhook_url(services.settings, path, n=n, s=step),
        on_silence=twiml.webhook_url(services.settings, path, n=n, s=step, quiet=1),
        speech=False,
    )  # fmt: skip


async def keypad_turn(
    request: Request, turn: str, step: KeyStep, *, s: str = "start", quiet: int = 0, answered: bool = False
) -> Response:
    """One webhook of a key call: ``turn`` names it among the call's turns (with the prompt's ``s`` and
    ``quiet``); ``answered``: the call was just picked up, so an answering machine is hung up on and
    the delivery reported failed — a voicemail box heard it, not the person — and ``step`` never runs."""
    services = services_of(request)
    form = await read_signed_form(request, services.settings)
    call_sid = form.get("CallSid")
    if not call_sid:
        return Response("missing CallSid", status_code=400)
    answered_by = form.get("AnsweredBy")
    digits = form.get("Digits").strip()

    async def run() -> str:
        if answered and is_machine(answered_by):
            await record_provider_status(
                services, call_sid, "failed", MACHINE_VERDICT_SEQ, f"call answered by {answered_by}"
            )
            return twiml.hangup()
        return await step(services, call_sid, digits)

    key = step_key(call_sid, turn, s, quiet)
    lang = services.settings.default_language
    return Response(await turns_of(services).answer(key, form.fields, lang, run), media_type=TWIML)
