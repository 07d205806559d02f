"""The 回访 call on the phone: Gridline rings the resident for a follow-up task (routing.followup_calls).

- :func:`place_follow_up_call` — the console's "call" button: the row first (``placing``), then
  ``Calls.create`` through the Twilio gateway (outside any transaction), then ``ringing`` or ``failed``;
- ``/voice/follow-up/{call_id}`` — fetched when the resident answers (an answering machine hangs up
  and the call counts as unreachable): the script from the catalogue, inside a ``<Gather numDigits=1>``:
  "问题解决了吗？满意请按1，没解决请按2";
- ``/voice/follow-up/{call_id}/key?step=solved|rating`` — 1 → confirmed, then the rating question
  (1–5); 2 → not solved (reopened one level up); silence or another key repeats up to three times;
- ``/voice/follow-up/{call_id}/status`` — the call's status callbacks (no answer, busy, completed).

Every webhook is signed by Twilio (``read_signed_form``) and answered once per step (``VoiceTurns``).
"""

from __future__ import annotations

import logging
import secrets
from typing import TYPE_CHECKING

from fastapi import APIRouter, Request, Response

from gridline.bots.twilio import twiml
from gridline.bots.twilio.client import TwilioGateway
from gridline.bots.twilio.signature import read_signed_form
from gridline.bots.twilio.statuses import is_machine
from gridline.bots.twilio.voice_hotline import step_key, turns_of
from gridline.bots.twilio.webhooks import TWIML, services_of
from gridline.edge.params import RowId
from gridline.i18n import t
from gridline.kernel.work import in_transaction
from gridline.routing import followup_calls
from gridline.routing.directory import Directory
from gridline.routing.followup_calls import CallStatus

if TYPE_CHECKING:
    from gridline.kernel.services import Services

log = logging.getLogger(__name__)
router = APIRouter()

MAX_PROMPTS = 3
PATH = "/voice/follow-up/{call_id}"


async def place_follow_up_call(services: Services, follow_up_id: int, actor: str) -> str:
    """Ring the resident of a 回访 task; returns a result code (call_placed, call_failed, or a refusal)."""
    start = await in_transaction(services, followup_calls.start_call, follow_up_id, actor)
    if start.refused:
        return start.refused
    gateway = services.parts.get_or_make(TwilioGateway, lambda: TwilioGateway(services.settings.twilio))
    if not gateway.configured:
        await in_transaction(services, followup_calls.call_placed, start.call_id, None, "twilio is not configured")
        return "call_failed"
    settings = services.settings
    result = await gateway.create_call(
        start.phone,
        url=twiml.webhook_url(settings, PATH.format(call_id=start.call_id)),
        status_callback=twiml.webhook_url(settings, PATH.format(call_id=start.call_id) + "/status"),
        timeout_seconds=settings.twilio.dial_timeout_seconds,
    )
    await in_transaction(services, followup_calls.call_placed, start.call_id, result.sid, result.error)
    log.info("follow-up %s: call %s placed by %s → %s", follow_up_id, start.call_id, actor, result.sid or result.error)
    return "call_placed" if result.ok else "call_failed"


def _prompt(services: Services, call_id: int, lang: str, texts: list[str], step: str, n: int) -> str:
    s = secrets.token_hex(4)
    path = PATH.format(call_id=call_id) + "/key"
    return twiml.prompt(
        services.settings, lang, texts,
        action=twiml.webhook_url(services.settings, path, step=step, n=n, s=s),
        on_silence=twiml.webhook_url(services.settings, path, step=step, n=n, s=s, quiet=1),
        speech=False,
    )  # fmt: skip


def _lang(services: Services) -> str:
    return services.settings.default_language


def _intro(script: followup_calls.Script, lang: str) -> str:
    category = t(f"category.{script.category}", lang)
    return t("twilio.follow_up.intro", lang, grid=script.grid, category=category, ref=" ".join(script.ref))


@router.post(PATH)
async def follow_up_answered(request: Request, call_id: RowId) -> Response:
    services = services_of(request)
    form = await read_signed_form(request, services.settings)
    call_sid = form.get("CallSid")
    if not call_sid:
        return Response("missing CallSid", status_code=400)
    lang = _lang(services)
    machine = is_machine(form.get("AnsweredBy"))

    async def step() -> str:
        await in_transaction(services, followup_calls.progress, call_id, call_sid, "in-progress", machine=machine)
        if machine:
            return twiml.hangup()  # a voicemail box cannot say whether it is solved
        script = await in_transaction(services, followup_calls.script, call_id, call_sid)
        if script is None or script.status != CallStatus.ANSWERED:
            return twiml.goodbye(services.settings, lang, [t("twilio.follow_up.gone", lang)])
        texts = [_intro(script, lang), t("twilio.follow_up.ask_solved", lang)]
        return _prompt(services, call_id, lang, texts, "solved", 1)

    key = step_key(call_sid, f"follow-up:{call_id}", "start")
    return Response(await turns_of(services).answer(key, form.fields, lang, step), media_type=TWIML)


@router.post(PATH + "/key")
async def follow_up_key(request: Request, call_id: RowId, step: str = "solved", n: int = 1, s: str = "",
                        quiet: int = 0) -> Response:  # fmt: skip
    services = services_of(request)
    form = await read_signed_form(request, services.settings)
    call_sid = form.get("CallSid")
    if not call_sid or step not in ("solved", "rating"):
        return Response("missing CallSid or unknown step", status_code=400)
    digits = form.get("Digits").strip()[:1]
    lang = _lang(services)

    async def answer() -> str:
        settings = services.settings
        if step == "solved" and digits == "1":
            if await in_transaction(services, followup_calls.answered_solved, call_id, call_sid):
                return _prompt(services, call_id, lang, [t("twilio.follow_up.ask_rating", lang)], "rating", 1)
            return twiml.goodbye(settings, lang, [t("twilio.follow_up.gone", lang)])
        if step == "solved" and digits == "2":
            index = Directory.for_services(services).grids
            done = await in_transaction(services, followup_calls.answered_not_solved, index, settings.timezone,
                                        call_id, call_sid)  # fmt: skip
            return twiml.goodbye(settings, lang, [t("twilio.follow_up.reopened" if done else "twilio.follow_up.gone",
                                                    lang)])  # fmt: skip
        if step == "rating" and digits in ("1", "2", "3", "4", "5"):
            done = await in_transaction(services, followup_calls.rated, call_id, call_sid, int(digits))
            return twiml.goodbye(settings, lang, [t("twilio.follow_up.thanks" if done else "twilio.follow_up.gone",
                                                    lang)])  # fmt: skip
        if n >= MAX_PROMPTS:
            return twiml.goodbye(settings, lang, [t("twilio.follow_up.no_key_goodbye", lang)])
        lead = t("twilio.follow_up.bad_key", lang) if digits else t("twilio.follow_up.repeat", lang)
        question = "twilio.follow_up.ask_solved" if step == "solved" else "twilio.follow_up.ask_rating"
        return _prompt(services, call_id, lang, [lead, t(question, lang)], step, n + 1)

    key = step_key(call_sid, f"follow-up:{call_id}:{step}:{n}", s, quiet)
    return Response(await turns_of(services).answer(key, form.fields, lang, answer), media_type=TWIML)


@router.post(PATH + "/status")
async def follow_up_status(request: Request, call_id: RowId) -> Response:
    services = services_of(request)
    form = await read_signed_form(request, services.settings)
    call_sid, status = form.get("CallSid"), form.get("CallStatus")
    if not call_sid:
        return Response("missing CallSid", status_code=400)
    machine = is_machine(form.get("AnsweredBy"))
    await in_transaction(services, followup_calls.progress, call_id, call_sid, status, machine=machine)
    return Response(status_code=204)
