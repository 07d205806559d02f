"""走千家 by phone: a missed-visit reminder call logs the visit with a key.

A grid worker whose first channel is a phone call gets the reminder of a missed visit as a call
(``routing.visits.tell_staff``: an outbox message on ``voice`` with the options
``visit:<id>:ok`` / ``visit:<id>:problem``, asked by ``voice_ask``). Pressing 1 logs it 正常;
pressing 2 asks for the problem, which Twilio hears as speech (``/voice/visit/{message_id}/note``)
and which becomes the visit's note and its 主动发现 case. Both go through
``routing.visits.record_visit``, the one function every channel logs a visit with, so the same
rules hold (only staff of the household's grid; a visit logged twice says so).
"""

from __future__ import annotations

import logging
import secrets
from typing import TYPE_CHECKING

from fastapi import APIRouter, Request, Response

from gridline.bots.twilio import twiml
from gridline.bots.twilio.signature import read_signed_form
from gridline.bots.twilio.voice_hotline import step_key, turns_of
from gridline.bots.twilio.voice_text import spoken_said
from gridline.bots.twilio.webhooks import TWIML, services_of
from gridline.edge.params import RowId
from gridline.i18n import t
from gridline.kernel.work import Work, in_transaction
from gridline.routing.visits import VisitReport, parse_button, record_visit
from gridline.storage import outbox, people
from gridline.storage.models import ChannelIdentity

if TYPE_CHECKING:
    from gridline.kernel.services import Services

log = logging.getLogger(__name__)
router = APIRouter()

MAX_PROMPTS = 3


def _caller_staff(work: Work, message_id: int, call_sid: str) -> tuple[int | None, int | None, str] | None:
    """(visit id, staff id, language) of a reminder call's message, or None if it is not one."""
    message = outbox.get(work.session, message_id)
    if message is None or message.direction != "out" or message.channel != "voice":
        return None
    if message.provider_message_id and message.provider_message_id != call_sid:
        return None
    visit_id = next((p[0] for o in message.options if (p := parse_button(str(o["data"])))), None)
    if visit_id is None:
        return None
    identity = work.session.get(ChannelIdentity, message.identity_id) if message.identity_id else None
    staff_id = message.staff_id or (identity.staff_id if identity else None)
    if staff_id is None and identity is not None:
        staff = people.active_staff_by_phone(work.session, identity.external_id)
        staff_id = staff.id if staff else None
    return visit_id, staff_id, message.lang


async def visit_key(services: Services, message_id: int, call_sid: str, data: str, lang: str) -> str:
    """The TwiML after a key on a reminder call: 1 logs 正常 and hangs up; 2 asks what the problem is."""
    parsed = parse_button(data)
    found = await in_transaction(services, _caller_staff, message_id, call_sid)
    if parsed is None or found is None:
        return twiml.goodbye(services.settings, lang, [t("visits.log.unknown_visit", lang)])
    visit_id, outcome = parsed
    if outcome == "problem":
        return _note_prompt(services, message_id, lang, [t("visits.voice.say_problem", lang)], n=1)
    logged = await record_visit(
        services, VisitReport("ok", visit_id=visit_id, channel="voice"), staff_id=found[1], lang=lang
    )
    log.info("visit %s logged by key on call %s: %s", visit_id, call_sid, logged.code)
    return twiml.goodbye(services.settings, lang, [spoken_said(logged.said)])


def _note_prompt(services: Services, message_id: int, lang: str, texts: list[str], n: int) -> str:
    step = secrets.token_hex(4)
    path = f"/voice/visit/{message_id}/note"
    return twiml.prompt(
        services.settings, lang, texts,
        action=twiml.webhook_url(services.settings, path, n=n, s=step),
        on_silence=twiml.webhook_url(services.settings, path, n=n, s=step, quiet=1),
    )  # fmt: skip


@router.post("/voice/visit/{message_id}/note")
async def problem_said(request: Request, message_id: RowId, n: int = 1, s: str = "", quiet: int = 0) -> Response:
    """What the grid worker said the problem was: the visit is logged 有问题 with it as the note.
    Silence asks again, up to ``MAX_PROMPTS`` times; then the visit is logged 有问题 without a note
    (they pressed 2: a problem was found, and the case says no details were given)."""
    services = services_of(request)
    form = await read_signed_form(request, services.settings)
    call_sid = form.get("CallSid")
    if not call_sid:
        return Response("missing CallSid", status_code=400)
    speech = form.get("SpeechResult").strip()

    async def step() -> str:
        found = await in_transaction(services, _caller_staff, message_id, call_sid)
        default = services.settings.default_language
        if found is None or found[0] is None:
            return twiml.goodbye(services.settings, default, [t("visits.log.unknown_visit", default)])
        visit_id, staff_id, lang = found
        if not speech and n < MAX_PROMPTS:
            return _note_prompt(services, message_id, lang, [t("visits.voice.say_again", lang)], n=n + 1)
        report = VisitReport("problem", note=speech, visit_id=visit_id, channel="voice")
        logged = await record_visit(services, report, staff_id=staff_id, lang=lang)
        log.info("visit %s logged with a problem by call %s: %s", visit_id, call_sid, logged.code)
        return twiml.goodbye(services.settings, lang, [spoken_said(logged.said)])

    key = step_key(call_sid, f"visit:{message_id}:note:{n}", s, quiet)
    return Response(
        await turns_of(services).answer(key, form.fields, services.settings.default_language, step), media_type=TWIML
    )
