"""A leader's text back to the hotline: the reply grammar (``sms_grammar``) applied to their pages.

Which page a code means: the newest page to that phone with that code (open or not, so a stale code
gets an explicit answer rather than "unknown"). No code means the newest open page to that phone;
so does a bare ``1`` when no page has code 1. The action itself — and who may take it — is the
core's (``act_on_case``); words after a code (``12 马上到``) are relayed to the resident
(``relay_staff_reply``). The answer is sent back through the outbox like any message.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlmodel import Session

from gridline.bots.duty_text import duty_lines, short_grid_name
from gridline.bots.page_text import answer_phrase
from gridline.bots.twilio.loop_sms import loop_answer
from gridline.bots.twilio.sms_grammar import StaffReply, cover_args, parse_staff_reply
from gridline.bots.twilio.sms_text import SEGMENT_BUDGET, SMS_VARIANTS, render_message, segments
from gridline.domain.lifecycle import StaffRole
from gridline.domain.transfers import DEPARTMENT_PAGES
from gridline.i18n import DEFAULT_LANGUAGE
from gridline.i18n.phrases import Lines, Phrase, render
from gridline.kernel.outbox import queue_message
from gridline.kernel.work import Work, in_transaction
from gridline.routing.actions import act_on_case
from gridline.routing.cover_grammar import parse_cover
from gridline.routing.handover import hand_over
from gridline.routing.loop_grammar import parse_loop_text
from gridline.routing.pages import open_pages_for_phone, page_by_code
from gridline.routing.queries import duty_of_staff
from gridline.routing.staff_words import relay_staff_reply
from gridline.routing.transfers import accept_transfer
from gridline.routing.visit_grammar import is_visit_text
from gridline.routing.visits import answer_visit_text
from gridline.settings import Settings
from gridline.storage import directory, people
from gridline.storage.models import Case, Message, Page, Staff
from gridline.storage.pacing import MessageKind

if TYPE_CHECKING:
    from gridline.kernel.services import Services

log = logging.getLogger(__name__)

# Answers to a text that was not a command: what an auto-responder on a staff phone would be sent
# again and again, so they count toward ``twilio.max_auto_replies_per_hour``. Every other answer is
# the outcome of a command (接单, 走访, 转办 …) and is never capped: a busy leader gets them all.
# 「值班」 lists the shifts of the next days, as Telegram's /duty does.
DUTY_DAYS = 7

LOOP_PRONE_ANSWERS = frozenset({"twilio.staff.not_understood", "twilio.staff.help", "loop.sms.help"})


def find_page(session: Session, phone: str, reply: StaffReply) -> Page | None:
    """The page ``reply`` is about (see the module docstring)."""
    if reply.code is not None:
        page = page_by_code(session, phone, reply.code)
        if page is not None or not (reply.bare_number and reply.code == 1):
            return page
    open_pages = open_pages_for_phone(session, phone)
    return open_pages[0] if open_pages else None


@dataclass(frozen=True)
class StaffAnswer:
    """What the staff member is texted back: a catalogue phrase (stored with its key, worded by SMS)."""

    said: Phrase
    case_id: int | None = None


@dataclass(frozen=True)
class _Target:
    """What a staff reply is about, read in one unit of work: their language and the page, or a refusal."""

    lang: str
    answer: StaffAnswer | None = None
    case_id: int = 0
    page_id: int = 0
    ref: str = "?"
    reason: str = ""


def _target(work: Work, staff_id: int, phone: str, reply: StaffReply | None) -> _Target:
    staff = work.session.get(Staff, staff_id)
    lang = staff.lang if staff else DEFAULT_LANGUAGE
    if reply is None:
        return _Target(lang, StaffAnswer(Phrase("twilio.staff.not_understood")))
    if reply.action == "help":
        # Department staff answer transfers (签收 / 回单 / 退单): their help is that grammar.
        key = "loop.sms.help" if staff is not None and staff.role == StaffRole.DEPARTMENT.value else "twilio.staff.help"
        return _Target(lang, StaffAnswer(Phrase(key)))
    page = find_page(work.session, phone, reply)
    if page is None:
        if reply.code is not None and not (reply.bare_number and reply.code == 1):
            return _Target(lang, StaffAnswer(Phrase("twilio.staff.unknown_code", {"code": reply.code})))
        return _Target(lang, StaffAnswer(Phrase("twilio.staff.no_open_page")))
    case = work.session.get(Case, page.case_id)
    return _Target(lang, case_id=page.case_id, page_id=page.id or 0, ref=case.ref if case else "?", reason=page.reason)


async def answer_for(services: Services, staff_id: int, phone: str, text: str) -> StaffAnswer:
    """What to text back to a staff member's SMS, after doing what it asks."""
    if is_visit_text(text):
        logged = await answer_visit_text(services, staff_id, text, "sms")
        return StaffAnswer(logged.said, logged.case_id)
    loop = parse_loop_text(text)
    if loop is not None:
        answer, case_id = await loop_answer(services, staff_id, phone, loop)
        return StaffAnswer(answer, case_id)
    cover = cover_args(text)
    if cover is not None:
        return StaffAnswer(await in_transaction(services, cover_answer, services.settings, staff_id, cover))
    reply = parse_staff_reply(text)
    if reply is not None and reply.action == "duty":
        return StaffAnswer(await in_transaction(services, duty_answer, staff_id, services.settings.timezone))
    target = await in_transaction(services, _target, staff_id, phone, reply)
    if target.answer is not None or reply is None or reply.action == "help" or reply.action == "duty":
        return target.answer or StaffAnswer(Phrase("twilio.staff.help"))
    if reply.action == "relay":
        told = await relay_staff_reply(services, target.case_id, staff_id, reply.text, "sms")
        # Neighbours who joined the case hear it too: the leader is told how many.
        key = "twilio.staff.not_relayed" if not told else "twilio.staff.relayed_many" if told > 1 \
            else "twilio.staff.relayed"
        return StaffAnswer(Phrase(key, {"ref": target.ref, "n": told}), target.case_id)
    if reply.action == "acknowledge" and target.reason in DEPARTMENT_PAGES:
        # A bare code (or 确认12) on a transfer page means 签收.
        accepted = await accept_transfer(services, target.case_id, staff_id, channel="sms", page_id=target.page_id)
        return StaffAnswer(answer_phrase(accepted), target.case_id)
    result = await act_on_case(
        services, case_id=target.case_id, staff_id=staff_id, action=reply.action, channel="sms",
        page_id=target.page_id,
    )
    log.info("staff %s texted %s → %s on case %s", staff_id, reply.action, result.code, result.case_ref)
    return StaffAnswer(answer_phrase(result), target.case_id)


def duty_answer(work: Work, staff_id: int, timezone: str) -> Phrase:
    """「值班」: the next shifts as Telegram's /duty lists them (``bots.duty_text``), the grids by their
    short names, as many as fit the SMS budget — the rest counted (「另有 9 班」), never cut off."""
    duty = duty_of_staff(work, staff_id, DUTY_DAYS, timezone)
    if not duty.shifts and not duty.handed_to:
        return Phrase("rota.duty.sms_empty", {"days": DUTY_DAYS})
    codes = {grid_code for _, _, grid_code, _ in [*duty.shifts, *duty.handed_to]}
    names = {code: short_grid_name(grid.name) for code, grid in directory.grids_by_code(work.session, codes).items()}
    shifts = duty_lines(duty, timezone, names)
    staff = work.session.get(Staff, staff_id)
    lang = staff.lang if staff else DEFAULT_LANGUAGE
    said = Phrase("rota.duty.sms", {"days": DUTY_DAYS, "shifts": Lines(tuple(shifts))})
    for shown in range(len(shifts) - 1, 0, -1):
        if segments(render_message(render(said, lang, SMS_VARIANTS.get), (), lang)) <= SEGMENT_BUDGET:
            break
        facts = {"days": DUTY_DAYS, "shifts": Lines(tuple(shifts[:shown])), "more": len(shifts) - shown}
        said = Phrase("rota.duty.sms_more", facts)
    return said


def cover_answer(work: Work, settings: Settings, staff_id: int, args: str) -> Phrase:
    """「交班 MBR-GX01-01-2 12-05 08:00 20:00 理由」: Telegram's /cover (``routing.handover``), by SMS;
    what does not parse gets the SMS form of the grammar (``twilio.staff.cover_usage``)."""
    staff = work.session.get(Staff, staff_id)
    ask = parse_cover(args, work.now, settings.timezone)
    if staff is None or ask is None:
        return Phrase("twilio.staff.cover_usage")
    return hand_over(work, settings, staff, ask).said


async def handle_staff_sms(
    services: Services, staff_id: int, phone: str, text: str, message_id: int | None = None
) -> None:
    """Act on a staff member's text, log it, and queue the answer to their phone."""
    answer = await answer_for(services, staff_id, phone, text)
    await in_transaction(services, queue_answer, staff_id, phone, answer, message_id)


def queue_answer(work: Work, staff_id: int, phone: str, answer: StaffAnswer, message_id: int | None) -> None:
    identity = people.find_identity(work.session, "sms", phone)
    staff = work.session.get(Staff, staff_id)
    lang = staff.lang if staff else DEFAULT_LANGUAGE
    stored = work.session.get(Message, message_id) if message_id else None
    if stored is not None and stored.case_id is None:
        # The core stored the text; which case it was about is known only here.
        stored.case_id = answer.case_id
    queue_message(
        work,
        channel="sms",
        identity=identity,
        phrase=answer.said,
        lang=lang,
        case_id=answer.case_id,
        staff_id=staff_id,
        kind=MessageKind.REPLY if answer.said.key in LOOP_PRONE_ANSWERS else MessageKind.STAFF_ANSWER,
    )
