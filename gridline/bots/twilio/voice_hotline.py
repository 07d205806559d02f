"""The voice hotline: a resident calls, speaks or presses keys; the core answers; TwiML says it.

Steps of a call (every URL below /webhooks/twilio):

- ``/voice`` — greeting inside a ``<Gather input="speech dtmf">`` (say the problem / 1 leader / 2 status);
- ``/voice/turn?n=N&mode=...&s=STEP`` — what the caller said or pressed; ``n`` counts re-prompts of
  the same question, ``s`` names the step (see ``new_step``), ``quiet=1`` means the Gather heard
  nothing. Speech goes to the core as text; in ``menu``/``more`` mode 1 connects the grid leader
  and 2 reads the status of open cases; in ``choice`` mode (the core offered options) keys answer
  the options; in ``leader`` mode speech is the caller's address, then the call is put through;
- ``/voice/dialled`` — how the ``<Dial>`` to the on-duty leader went; no answer → ``<Record>``;
- ``/voice/voicemail`` — the recording, handed to the core as a voicemail (it lands on a case and
  the case is paged as any other);
- ``/voice/wait`` — the answer of a slow step (``voice_turns``).

Silence and bad keys re-prompt up to ``MAX_PROMPTS`` times, then the call ends with a goodbye that
says what else the caller can do. No step ends without something said.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

from fastapi import APIRouter, Request, Response

from gridline.bots.twilio import twiml
from gridline.bots.twilio.hotlines import text_us_goodbye
from gridline.bots.twilio.phone import to_e164
from gridline.bots.twilio.signature import SignedForm, read_signed_form
from gridline.bots.twilio.voice_text import spoken, spoken_option
from gridline.bots.twilio.voice_turns import VoiceTurns
from gridline.bots.twilio.webhooks import TWIML, services_of
from gridline.core.conversation import handle_inbound
from gridline.i18n import t
from gridline.kernel.messages import InboundMessage, Option, Outcome
from gridline.kernel.work import Work, in_transaction
from gridline.routing.duty import leader_to_put_through
from gridline.storage import directory, people
from gridline.storage.models import Resident, Staff

if TYPE_CHECKING:
    from gridline.kernel.services import Services

log = logging.getLogger(__name__)
router = APIRouter()

MAX_PROMPTS = 3
# Modes of /voice/turn: "menu" (1 leader, 2 status, or speak), "more" (the menu after an answer:
# silence ends the call), "choice" (keys answer the options the core offered), "leader" (the
# address of a caller who wants their leader).
MENU_MODES = ("menu", "more")
# How long the options said at a step can be asked again (as long as a step's answer is kept).
OPTIONS_TTL_SECONDS = 900


def turns_of(services: Services) -> VoiceTurns:
    """The process's voice turns (made on first use)."""
    return services.parts.get_or_make(VoiceTurns, lambda: VoiceTurns(services))


def caller_number(services: Services, form: SignedForm) -> str:
    """The caller as E.164; withheld numbers get a per-call identity (they can still report)."""
    phone = to_e164(form.get("From"), services.settings.twilio.default_region)
    return phone or f"anonymous:{form.get('CallSid')}"


async def caller_resident(services: Services, phone: str) -> Resident | None:
    return await in_transaction(services, lambda work: people.first_resident_with_phone(work.session, phone))


async def caller_lang(services: Services, phone: str) -> str:
    resident = await caller_resident(services, phone)
    return resident.lang if resident else services.settings.default_language


def _url(services: Services, path: str, **query: str | int) -> str:
    return twiml.webhook_url(services.settings, path, **query)


def new_step() -> str:
    """A fresh name for the next step of a call: a retry of a request repeats its URL (and so its
    step), a new question never does, even when it asks the same thing again."""
    return secrets.token_hex(4)


def step_key(call_sid: str, name: str, step: str, quiet: int = 0) -> str:
    return f"{call_sid}:{name}:{step}" + (":quiet" if quiet else "")


def menu_prompt(services: Services, lang: str, texts: list[str], *, n: int = 1, mode: str = "menu",
                step: str | None = None) -> str:
    """Say ``texts`` and listen for speech or a key; silence comes back with ``quiet=1``."""
    step = step or new_step()
    return twiml.prompt(
        services.settings,
        lang,
        texts,
        action=_url(services, "/voice/turn", n=n, mode=mode, s=step),
        on_silence=_url(services, "/voice/turn", n=n, mode=mode, s=step, quiet=1),
    )


def _options_key(step: str) -> str:
    return f"twilio:voice:options:{step}"


async def choice_prompt(services: Services, lang: str, texts: list[str], lines: list[str], *, n: int = 1) -> str:
    """Say ``texts`` and the option ``lines`` ("社会治安请按1。"), and listen in ``choice`` mode; the
    lines are kept with the step, so that a key that is no option can ask them again."""
    step = new_step()
    await services.state.set(_options_key(step), {"lines": lines}, OPTIONS_TTL_SECONDS)
    return menu_prompt(services, lang, [*texts, *lines], n=n, mode="choice", step=step)


async def render_outcome(services: Services, lang: str, outcome: Outcome) -> str:
    """The core's replies, said (their keys' voice variants); then the options it offered, or
    "anything else?"."""
    texts = [spoken(reply) for reply in outcome.replies]
    options: tuple[Option, ...] = next((r.options for r in reversed(outcome.replies) if r.options), ())
    if options:
        lines = [t("twilio.voice.option_line", lang, n=i, label=spoken_option(o, lang))
                 for i, o in enumerate(options, 1)]
        return await choice_prompt(services, lang, texts, lines)
    return menu_prompt(services, lang, [*texts, t("twilio.voice.anything_else", lang)], mode="more")


async def _options_again(services: Services, lang: str, step: str, digits: str, n: int) -> str | None:
    """A key that is none of the options offered at ``step``: the options again (None when the key is
    one of them, or they are no longer known — then the core reads the key as it would)."""
    kept = await services.state.get(_options_key(step)) if step else None
    lines = list(kept["lines"]) if kept else []
    if not lines or n >= MAX_PROMPTS or (digits.isdigit() and 1 <= int(digits) <= len(lines)):
        return None
    return await choice_prompt(services, lang, [t("twilio.voice.no_such_option", lang)], lines, n=n + 1)


async def core_turn(services: Services, phone: str, key: str, lang: str, **fields: object) -> str:
    """One message of the caller through the conversation core, rendered as TwiML."""
    msg = InboundMessage(channel="voice", external_id=phone, provider_message_id=key, **fields)  # type: ignore[arg-type]
    outcome = await handle_inbound(services, msg, deliver_replies=False)
    if outcome.staff_id is not None and not outcome.replies:
        # Staff work their pages by text or on the page call; the hotline is for residents.
        return twiml.goodbye(services.settings, lang, [t("twilio.voice.staff_caller", lang)])
    return await render_outcome(services, lang, outcome)


@dataclass(frozen=True)
class Caller:
    """Who is on the line, read from a signed Twilio voice request."""

    services: Services
    form: SignedForm
    call_sid: str
    phone: str
    lang: str


async def read_caller(request: Request) -> Caller | Response:
    """The signed form and caller of a voice request, or the 400 answer when it has no CallSid."""
    services = services_of(request)
    form = await read_signed_form(request, services.settings)
    call_sid = form.get("CallSid")
    if not call_sid:
        return Response("missing CallSid", status_code=400)
    phone = caller_number(services, form)
    return Caller(services, form, call_sid, phone, await caller_lang(services, phone))


@router.post("/voice")
async def call_arrives(request: Request) -> Response:
    caller = await read_caller(request)
    if isinstance(caller, Response):
        return caller
    services, form, lang = caller.services, caller.form, caller.lang

    async def greet() -> str:
        return menu_prompt(services, lang, [t("twilio.voice.greeting", lang)])

    key = f"{form.get('CallSid')}:start"
    return Response(await turns_of(services).answer(key, form.fields, lang, greet), media_type=TWIML)


@router.post("/voice/turn")
async def caller_turn(request: Request, n: int = 1, mode: str = "menu", s: str = "", quiet: int = 0) -> Response:
    caller = await read_caller(request)
    if isinstance(caller, Response):
        return caller
    services, form, call_sid, phone, lang = caller.services, caller.form, caller.call_sid, caller.phone, caller.lang
    digits = form.get("Digits").strip()
    speech = form.get("SpeechResult").strip()
    key = step_key(call_sid, f"turn:{mode}:{n}", s, quiet)

    async def step() -> str:
        if mode == "leader" and speech:
            return await _address_then_dial(services, phone, f"{key}:address", lang, speech)
        if mode in MENU_MODES and digits == "1":
            return await _connect_leader(services, phone, key, lang)
        if mode in MENU_MODES and digits == "2":
            return await core_turn(services, phone, key, lang, command="status")
        if mode == "choice" and digits and not speech:
            again = await _options_again(services, lang, s, digits, n)
            if again is not None:
                return again
        if speech or (mode == "choice" and digits):
            return await core_turn(services, phone, key, lang, text=speech or digits)
        if mode == "more" and not digits:
            # "Anything else?" met with silence: the caller is done.
            return twiml.goodbye(services.settings, lang, [t("twilio.voice.goodbye", lang)])
        if n >= MAX_PROMPTS:
            goodbye = text_us_goodbye(services.settings, "twilio.voice.no_input_goodbye", lang)
            return twiml.goodbye(services.settings, lang, [goodbye])
        return menu_prompt(services, lang, [t("twilio.voice.reprompt", lang)], n=n + 1)

    return Response(await turns_of(services).answer(key, form.fields, lang, step), media_type=TWIML)


def _leader_on_duty(work: Work, services: Services, grid_code: str) -> tuple[Staff | None, str]:
    """The person to put the caller through to (``routing.duty``) and the grid's name."""
    grid = directory.grid(work.session, grid_code)
    staff = leader_to_put_through(work.session, grid_code, work.now, services.settings.timezone)
    return staff, grid.name if grid else grid_code


async def _connect_leader(services: Services, phone: str, key: str, lang: str) -> str:
    resident = await caller_resident(services, phone)
    if resident is None or not resident.grid_code:
        # Registration is the core's: "start" makes it ask for the address; the answer comes back
        # in "leader" mode so that, once the grid is known, the call is put through.
        msg = InboundMessage(channel="voice", external_id=phone, provider_message_id=key, command="start")
        outcome = await handle_inbound(services, msg, deliver_replies=False)
        texts = [spoken(r) for r in outcome.replies] or [t("twilio.voice.ask_address", lang)]
        step = new_step()
        return twiml.prompt(
            services.settings,
            lang,
            texts,
            action=_url(services, "/voice/turn", n=1, mode="leader", s=step),
            on_silence=_url(services, "/voice/turn", n=1, mode="menu", s=step, quiet=1),
        )
    return await _dial_or_voicemail(services, lang, resident.grid_code)


async def _address_then_dial(services: Services, phone: str, key: str, lang: str, speech: str) -> str:
    msg = InboundMessage(channel="voice", external_id=phone, provider_message_id=key, text=speech)
    outcome = await handle_inbound(services, msg, deliver_replies=False)
    resident = await caller_resident(services, phone)
    if resident is not None and resident.grid_code:
        return await _dial_or_voicemail(services, lang, resident.grid_code)
    return await render_outcome(services, lang, outcome)


async def _dial_or_voicemail(services: Services, lang: str, grid_code: str) -> str:
    staff, grid_name = await in_transaction(services, _leader_on_duty, services, grid_code)
    if staff is None or not staff.phone:
        return twiml.record_voicemail(
            services.settings,
            lang,
            t("twilio.voice.nobody_on_duty", lang),
            action=_url(services, "/voice/voicemail", s=new_step()),
            nothing_recorded=text_us_goodbye(services.settings, "twilio.voice.no_voicemail", lang),
        )
    return twiml.dial(
        services.settings,
        lang,
        t("twilio.voice.connecting", lang, grid=grid_name),
        number=staff.phone,
        action=_url(services, "/voice/dialled", staff=staff.id or 0, s=new_step()),
    )


@router.post("/voice/dialled")
async def dial_finished(request: Request, s: str = "") -> Response:
    caller = await read_caller(request)
    if isinstance(caller, Response):
        return caller
    services, form, call_sid, lang = caller.services, caller.form, caller.call_sid, caller.lang
    status = form.get("DialCallStatus")

    async def step() -> str:
        if status == "completed":
            return twiml.goodbye(services.settings, lang, [t("twilio.voice.call_ended", lang)])
        log.info("call %s: leader did not answer (%s); taking a voicemail", call_sid, status or "?")
        return twiml.record_voicemail(
            services.settings,
            lang,
            t("twilio.voice.leave_voicemail", lang),
            action=_url(services, "/voice/voicemail", s=new_step()),
            nothing_recorded=text_us_goodbye(services.settings, "twilio.voice.no_voicemail", lang),
        )

    twiml_text = await turns_of(services).answer(step_key(call_sid, "dialled", s), form.fields, lang, step)
    return Response(twiml_text, media_type=TWIML)


@router.post("/voice/voicemail")
async def voicemail(request: Request, s: str = "") -> Response:
    caller = await read_caller(request)
    if isinstance(caller, Response):
        return caller
    services, form, call_sid, phone, lang = caller.services, caller.form, caller.call_sid, caller.phone, caller.lang
    url = form.get("RecordingUrl")
    key = step_key(call_sid, "voicemail", s)

    async def step() -> str:
        if not url:
            nothing = text_us_goodbye(services.settings, "twilio.voice.no_voicemail", lang)
            return twiml.goodbye(services.settings, lang, [nothing])
        media = {"kind": "voicemail", "url": url, "duration": form.get("RecordingDuration"), "call_sid": call_sid}
        msg = InboundMessage(channel="voice", external_id=phone, provider_message_id=key, media=[media])
        outcome = await handle_inbound(services, msg, deliver_replies=False)
        if outcome.case_ref:
            text = t("twilio.voice.voicemail_saved_ref", lang, ref=outcome.case_ref)
        else:
            text = t("twilio.voice.voicemail_saved", lang)
        return twiml.goodbye(services.settings, lang, [text])

    return Response(await turns_of(services).answer(key, form.fields, lang, step), media_type=TWIML)


@router.post("/voice/wait")
async def wait_for_answer(request: Request, key: str = "", n: int = 1) -> Response:
    services = services_of(request)
    form = await read_signed_form(request, services.settings)
    if not key or not key.startswith(form.get("CallSid") + ":"):
        return Response("bad wait key", status_code=400)
    lang = await caller_lang(services, caller_number(services, form))
    return Response(await turns_of(services).resume(key, lang, n), media_type=TWIML)
