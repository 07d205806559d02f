"""平安守护 questions: the option data of an answer (``chk:<id>:ok|help|going``), sweep reasons, which
identity and sender lane a question goes by, and the question itself as a paced outbound message."""

from __future__ import annotations

import os
import socket
from datetime import datetime

from gridline.i18n import has
from gridline.i18n.phrases import Phrase, render
from gridline.kernel.messages import Option
from gridline.kernel.outbox import message_lane, queue_message
from gridline.kernel.work import Work
from gridline.settings import Settings
from gridline.storage import checkins as store
from gridline.storage import pacing, people
from gridline.storage.models import ChannelIdentity, CheckIn, Household, HouseholdPerson
from gridline.storage.pacing import MessageKind

WORKER_ID = f"{socket.gethostname()}:{os.getpid()}"
CHANNELS = ("sms", "voice", "telegram")
ANSWERS = ("ok", "help", "going")
# Check-in answers travel as option data "chk:<id>:<answer>" (Telegram buttons, SMS numbers, keys).
CHOICE_PREFIX = "chk:"


def choice_data(checkin_id: int, answer: str) -> str:
    return f"{CHOICE_PREFIX}{checkin_id}:{answer}"


def parse_choice(data: str) -> tuple[int, str] | None:
    parts = data.split(":")
    if len(parts) != 3 or parts[0] + ":" != CHOICE_PREFIX or not parts[1].isdigit() or parts[2] not in ANSWERS:
        return None
    return int(parts[1]), parts[2]


def reason_label(settings: Settings, code: str, lang: str) -> str:
    return render(reason_phrase(settings, code, lang), lang)


def reason_phrase(settings: Settings, code: str, lang: str) -> Phrase | str:
    """A sweep's reason as said to ``lang``: the catalogue's (寒潮, 暴雨 …), or a configured custom
    reason's own words in that language (settings data, not catalogue text), else its code."""
    custom = settings.checkins.custom_reasons.get(code)
    if custom:
        return custom.get(lang) or next(iter(custom.values()), code)
    key = f"checkins.reason.{code}"
    return Phrase(key) if has(key) else code


def known_reasons(settings: Settings) -> list[str]:
    return [
        *settings.checkins.sweep_reasons,
        *(c for c in settings.checkins.custom_reasons if c not in settings.checkins.sweep_reasons),
    ]


def window_from(work: Work, sent_at: datetime) -> int:
    """A stage's result for ``schedule_next``: 1 (reached), plus the seconds its question waits to leave."""
    return 1 + max(0, int((sent_at - work.now).total_seconds()))


def member_name(person: HouseholdPerson | None) -> str:
    return person.name if person is not None else ""


def question_options(checkin_id: int, *, sweep: bool = False) -> tuple[Option, ...]:
    """报平安 / 需要帮助 (a sweep: 平安 / 需要帮助), answering as ``chk:<id>:ok|help``."""
    return (
        Option(Phrase("checkins.option.safe" if sweep else "checkins.option.ok"), choice_data(checkin_id, "ok")),
        Option(Phrase("checkins.option.help"), choice_data(checkin_id, "help")),
    )


def question_identity(
    work: Work, checkin: CheckIn, household: Household, person: HouseholdPerson | None
) -> ChannelIdentity | None:
    """Where the member is asked: their chosen channel (Telegram needs an account they wrote from)."""
    if person is None:
        return None
    session, now = work.session, work.now
    resident_id = store.resident_for_member(session, household, person, now)
    checkin.resident_id = resident_id
    if checkin.channel == "telegram" and resident_id is not None:
        for identity in people.reachable_identities(session, resident_id):
            if identity.channel == "telegram":
                return identity
    if not person.phone:
        return None
    channel = "voice" if checkin.channel == "voice" else "sms"
    identity = store.identity_for(session, channel, person.phone, now, resident_id=resident_id)
    return None if identity.unreachable else identity


def question_lane(settings: Settings, identity: ChannelIdentity) -> str:
    """The sender lane a question leaves by: a call from the voice number, else the channel's own."""
    if identity.channel == "voice":
        return pacing.lane_of("call", "", settings.twilio.sms_number, settings.twilio.voice_number)
    return message_lane(settings, identity.channel, identity)


def ask_question(
    work: Work, settings: Settings, checkin: CheckIn, identity: ChannelIdentity, lang: str, question: Phrase
) -> datetime:
    """Queue the question (a paced ``checkin`` message: many fall due at 09:00); returns its send time."""
    message = queue_message(
        work, channel=identity.channel, identity=identity, phrase=question, lang=lang,
        options=question_options(checkin.id or 0), resident_id=checkin.resident_id,
        kind=MessageKind.CHECKIN, settings=settings, lane=question_lane(settings, identity),
    )  # fmt: skip
    checkin.identity_id = identity.id
    checkin.message_ids = [*checkin.message_ids, message.id or 0]
    return max(message.next_attempt_at or work.now, work.now)


def ask_text(checkin: CheckIn, person: HouseholdPerson | None, *, again: bool) -> Phrase:
    """The question: 今天平安吗 on the check-in's channel (its key per channel), or asked again."""
    name = member_name(person)
    if again:
        return Phrase("checkins.ask.again", {"name": name})
    return Phrase(f"checkins.ask.{checkin.channel if checkin.channel in CHANNELS else 'sms'}", {"name": name})


def publish_checkin(work: Work, checkin: CheckIn) -> None:
    """Tell live consoles (after the commit): a sweep's coverage changed, or a check-in moved."""
    work.event(
        "checkins",
        {"type": "checkin.updated", "checkin_id": checkin.id, "sweep_id": checkin.sweep_id,
         "grid_code": checkin.grid_code, "status": checkin.status},
    )  # fmt: skip
