"""A choice: the data of an option the resident picked (a button, or a number or key that picks
one) — a category for an unclear report, a rating, "solved?" yes/no, a check-in answer."""

from __future__ import annotations

import re

from gridline.core.conversation.states import IDLE, State
from gridline.core.conversation.step import Step
from gridline.core.conversation.understood import not_now, solved_answer
from gridline.core.reports import apply_category_choice
from gridline.i18n.phrases import Phrase
from gridline.routing import checkins
from gridline.routing.cases import already_reported
from gridline.routing.rating import rate_case
from gridline.storage import cases

CHOICE_RE = re.compile(r"^(cat|rate|solved):([A-Z0-9]{6}):([a-z_]+|[1-5])$")
VOICE_CHANNELS = ("sms", "voice")


def choice(step: Step, state: State) -> State:
    """Answer the choice; the options offered are then spent."""
    data = step.turn.choice or ""
    resident, identity = step.resident, step.sender.identity
    if data.startswith(checkins.CHOICE_PREFIX):
        phone = identity.external_id if identity.channel in VOICE_CHANNELS else resident.phone
        answered = checkins.answer(
            step.work, step.services.settings, data, identity_id=identity.id, resident_id=resident.id,
            phone=phone, lang=step.lang, actor=f"resident:{resident.id}",
        )  # fmt: skip
        step.about(answered.case_id, answered.case_ref)
        step.say(Phrase(answered.key, answered.params))
        return IDLE
    match = CHOICE_RE.match(data)
    case = cases.by_ref(step.work.session, match.group(2)) if match else None
    if match is None or case is None or not already_reported(step.work.session, case, resident.id):
        step.say("conversation.choice_expired")
        return IDLE
    step.about(case.id, case.ref)
    kind, value = match.group(1), match.group(3)
    if kind == "rate":
        low = step.services.settings.closure.low_rating
        ok = rate_case(step.work, case, int(value), actor=f"resident:{resident.id}", low_rating=low)
        step.say("case.rating_thanks" if ok else not_now(case), ref=case.ref)
    elif kind == "solved":
        solved_answer(step, case, value == "yes", None)
    else:
        step.say(apply_category_choice(step.services, step.work, case, value))
    return IDLE
