"""A choice: the data of an option the resident picked (a button, or a number or key that picks
one) — a category for an unclear report, a rating, "solved?" yes/no, a check-in answer."""

from __future__ import annotations

import re

from gridline.core.conversation.details import detail_to_split
from gridline.core.conversation.filing import file
from gridline.core.conversation.gone import gone_answer
from gridline.core.conversation.solved import not_now, solved_answer
from gridline.core.conversation.states import IDLE, State
from gridline.core.conversation.step import Step
from gridline.core.reports import apply_category_choice, decide_report
from gridline.i18n.phrases import Phrase
from gridline.nlu.types import IntentScore, NluResult
from gridline.routing import checkins
from gridline.routing.cases import already_reported
from gridline.routing.rating import rate_case
from gridline.routing.timeline import record_event
from gridline.storage import cases
from gridline.storage.models import Case

CHOICE_RE = re.compile(r"^(cat|rate|solved|split|gone):([A-Z0-9]{6}):([a-z_]+|[1-5])$")
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
    elif kind == "gone":
        gone_answer(step, case, value == "yes")
    elif kind == "split":
        return report_apart(step, case, value)
    else:
        step.say(apply_category_choice(step.services, step.work, case, value))
    return IDLE


def report_apart(step: Step, case: Case, category: str) -> State:
    """「另报新问题」: the words the resident added to ``case`` were another problem — filed now as
    the report the model read in them (``details``), once."""
    added = detail_to_split(step, case, category)
    if added is None:
        step.say("conversation.choice_expired")
        return IDLE
    maybe, text = added.data["maybe"], str(added.data.get("summary") or "")
    confidence = float(maybe.get("confidence") or 0.0)
    nlu = NluResult(text=text, intent=category, confidence=confidence, ranking=[IntentScore(category, confidence)])
    decision = decide_report(step.services, step.work, step.sender, nlu, text, step.turn.msg)
    after = file(step, decision, IDLE)
    record_event(step.work, case.id or 0, "split_off", "resident", {"to": step.outcome.case_ref, "event_id": added.id})
    return after
