"""A question by phone: an outbox message on the ``voice`` channel with options is a call.

The voice notifier places the call (``VoiceNotifier.send_message``); when it is answered Twilio
fetches ``/voice/ask/{message_id}``, which says the message and its options inside one
``<Gather numDigits="1">`` ("报平安请按1。需要帮助请按2。" for a 平安守护 check-in). A key goes to the
core as the option's choice (``handle_inbound``, so a check-in is answered exactly as by SMS or a
Telegram button) and the call says the core's reply and hangs up; a key on a 走千家 reminder call
logs the visit instead (``voice_visit``). An answering machine hears
nothing and the delivery is reported failed; silence repeats the question up to ``MAX_PROMPTS``
times, then the call ends (the check-in's next stage will try again).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from fastapi import APIRouter, Request, Response

from gridline.bots.twilio import twiml
from gridline.bots.twilio.voice_keypad import MAX_PROMPTS, key_prompt, keypad_turn
from gridline.bots.twilio.voice_text import spoken, spoken_message, spoken_option
from gridline.bots.twilio.voice_visit import visit_key
from gridline.core.conversation import handle_inbound
from gridline.edge.params import RowId
from gridline.i18n import t
from gridline.kernel.messages import InboundMessage, options_from_json
from gridline.kernel.work import Work, in_transaction
from gridline.routing.visits import is_visit_button
from gridline.storage import outbox
from gridline.storage.models import ChannelIdentity

if TYPE_CHECKING:
    from gridline.kernel.services import Services

log = logging.getLogger(__name__)
router = APIRouter()

def _read_question(work: Work, message_id: int, call_sid: str) -> tuple[str, list[tuple[str, str]], str, str] | None:
    """(text, [(label, data)], language, the callee's number) of a voice message, or None."""
    message = outbox.get(work.session, message_id)
    if message is None or message.direction != "out" or message.channel != "voice" or not message.options:
        return None
    if message.provider_message_id and message.provider_message_id != call_sid:
        log.warning(
            "call %s asked for message %s, which belongs to call %s", call_sid, message_id, message.provider_message_id
        )
        return None
    identity = work.session.get(ChannelIdentity, message.identity_id) if message.identity_id else None
    if identity is None:
        return None
    options = [(spoken_option(o, message.lang), o.data) for o in options_from_json(message.options)]
    return spoken_message(message), options, message.lang, identity.external_id


def _prompt(services: Services, message_id: int, lang: str, texts: list[str], n: int) -> str:
    return key_prompt(services, f"/voice/ask/{message_id}/key", lang, texts, n)


def _option_lines(options: list[tuple[str, str]], lang: str) -> list[str]:
    return [t("twilio.voice.option_line", lang, n=i, label=label) for i, (label, _) in enumerate(options, 1)]


@router.post("/voice/ask/{message_id}")
async def question_call_answered(request: Request, message_id: RowId) -> Response:
    async def step(services: Services, call_sid: str, digits: str) -> str:
        question = await in_transaction(services, _read_question, message_id, call_sid)
        lang = question[2] if question else services.settings.default_language
        if question is None:
            return twiml.goodbye(services.settings, lang, [t("checkins.voice.gone", lang)])
        text, options, lang, _ = question
        return _prompt(services, message_id, lang, [text, *_option_lines(options, lang)], n=1)

    return await keypad_turn(request, f"ask:{message_id}", step, answered=True)


@router.post("/voice/ask/{message_id}/key")
async def question_key_pressed(
    request: Request, message_id: RowId, n: int = 1, s: str = "", quiet: int = 0
) -> Response:
    async def step(services: Services, call_sid: str, digits: str) -> str:
        question = await in_transaction(services, _read_question, message_id, call_sid)
        if question is None:
            default = services.settings.default_language
            return twiml.goodbye(services.settings, default, [t("checkins.voice.gone", default)])
        text, options, lang, phone = question
        index = int(digits[:1]) if digits[:1].isdigit() else 0
        if 1 <= index <= len(options) and is_visit_button(options[index - 1][1]):
            # A reminder call of 走千家: the key logs the visit (voice_visit), not a conversation turn.
            return await visit_key(services, message_id, call_sid, options[index - 1][1], lang)
        if 1 <= index <= len(options):
            msg = InboundMessage(
                channel="voice", external_id=phone, choice=options[index - 1][1],
                provider_message_id=f"{call_sid}:ask:{message_id}:{n}",
            )  # fmt: skip
            outcome = await handle_inbound(services, msg, deliver_replies=False)
            log.info("question %s: key %s → %s", message_id, digits, options[index - 1][1])
            return twiml.goodbye(services.settings, lang, [spoken(r) for r in outcome.replies])
        if n >= MAX_PROMPTS:
            return twiml.goodbye(services.settings, lang, [t("checkins.voice.no_key", lang)])
        lead = t("checkins.voice.bad_key", lang) if digits else ""
        return _prompt(services, message_id, lang, [lead, text, *_option_lines(options, lang)], n=n + 1)

    return await keypad_turn(request, f"ask:{message_id}:key:{n}", step, s=s, quiet=quiet)
