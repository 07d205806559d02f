"""Words the NLU understood: a question (who is my leader, my cases), an answer to "解决了吗？"
(``solved``), small talk, only a place (the problem is asked), more about a case of theirs
(``follow_ups``, ``details``), or a report that becomes a case (``filing``)."""

from __future__ import annotations

from gridline.core.answers import find_leader, open_cases
from gridline.core.conversation import details, solved
from gridline.core.conversation.filing import report
from gridline.core.conversation.follow_ups import follow_up, replied_case
from gridline.core.conversation.gone import problem_gone
from gridline.core.conversation.states import (
    IDLE,
    AwaitingAddress,
    AwaitingProblem,
    State,
    asking_address,
    asking_problem,
    settled,
)
from gridline.core.conversation.step import Step
from gridline.domain.lifecycle import Priority
from gridline.nlu.complaints import complaint_not_otherwise_read
from gridline.nlu.places import only_a_place
from gridline.nlu.priority import assess_priority
from gridline.nlu.solved_words import solved_in_words
from gridline.nlu.types import OUT_OF_SCOPE

SMALL_TALK = ("greet", "thanks", "affirm", "deny", "smalltalk")


def words(step: Step, state: State) -> State:
    """What the resident said, as the NLU understood it (before the transaction)."""
    nlu = step.turn.nlu
    assert nlu is not None, "understood before the transaction (the table says so)"
    resident, text, intent = step.resident, step.text, nlu.intent
    confident = nlu.confidence >= step.services.settings.nlu.confidence_threshold
    if not nlu.is_issue and assess_priority(nlu).priority == Priority.EMERGENCY:
        # 「someone is having a heart attack in the lobby」 read as a status question is still a danger:
        # a report (category emergency, core.reports), never a status list or small talk.
        return report(step, state)
    plain = solved_in_words(text)
    if plain is not None and solved.answered_in_words(step, plain):
        # A plain 解决了 / 没解决 answers "解决了吗？" before anything the model makes of it.
        return state
    gone = problem_gone(step, state)
    if gone is not None:
        # 「不用来了，水已经来了」: filed, it would open a case for a problem that is gone.
        return gone
    place = place_alone(step, confident)
    if place is not None:
        # Where, not what: a case filed now would take the category the address's characters resemble.
        step.say("conversation.ask_problem", place=place)
        return asking_problem(state, place)
    if complaint_not_otherwise_read(nlu, text, step.services.settings.nlu.confidence_threshold):
        # 「网格长一直不接电话」 read as "who is my grid leader?" was answered with the very person
        # complained about: a complaint, filed and routed above them (core.reports).
        return report(step, state)
    if confident and intent == "find_leader":
        step.say(find_leader(step.services, step.work, resident.grid_code))
        # Without a grid the answer asks for the address: the next words are the answer to it.
        return state if resident.grid_code else asking_address(IDLE)
    if confident and intent == "check_status":
        step.say(open_cases(step.work, resident.id or 0))
        return state
    if plain is None and solved.answered_in_words(step, None):
        # "解决了，谢谢", "没有解决", or the same problem again ("还是没水"): that case's answer.
        return state
    if asks_after_report(step, confident):
        # 「what's the status?」「有人管吗？」 right after a report is about it: its stage and holder.
        step.say(open_cases(step.work, resident.id or 0))
        return state
    if confident and intent in SMALL_TALK:
        replied = replied_case(step, confident)
        if replied is not None:
            # 「好的」「谢谢」 in reply to the leader's relayed words answers the leader: on the case's log.
            step.about(replied.id, replied.ref)
        step.say(f"conversation.{intent}")
        if intent == "greet" and not resident.grid_code:
            step.say("registration.ask_location")
            return asking_address(state)
        return state
    answered = replied_case(step, confident)
    if answered is not None:
        return follow_up(step, answered, state)
    detail = details.detail_of(step, confident)
    if detail is not None:
        return follow_up(step, detail.case, state, detail=True, maybe=detail.maybe)
    if not nlu.is_issue and (intent == OUT_OF_SCOPE or not substantive(text)):
        step.say("conversation.not_understood")
        return state
    return report(step, state)


def asks_after_report(step: Step, confident: bool) -> bool:
    """A question the model does not place (or reads as a greeting or chat: 「有人管吗？」), within
    ``cases.follow_up_minutes`` of the resident's words on an open case."""
    nlu = step.turn.nlu
    if nlu is None or nlu.is_issue or (confident and nlu.intent not in ("greet", "smalltalk")):
        return False
    return details.a_question(step.text) and details.recent_case(step) is not None


def place_alone(step: Step, confident: bool) -> str | None:
    """The place the message names when it is only a place (an address, maybe with a greeting) sent
    unprompted — not the answer to 「您的住址？」 (``registration``), nor a reply about a case of theirs."""
    nlu = step.turn.nlu
    if nlu is None or isinstance(step.turn.state, AwaitingAddress):
        return None
    place = only_a_place(step.text, nlu.entities)
    if place is None or replied_case(step, confident) is not None:
        return None
    return place


def problem_answer(step: Step, state: AwaitingProblem) -> State:
    """What the resident says after being asked what is wrong at the place they sent: a report is
    filed there; anything else (a greeting, "who is my leader?") is answered and the question stays."""
    after = words(step, state)
    if step.outcome.case_id is not None and isinstance(after, AwaitingProblem):
        return settled(after.options, after.triage_case_id)  # joined a case: the place was for this report
    return after


def substantive(text: str) -> bool:
    """Enough words to be worth a person's attention (not a stray emoji or 'ok')."""
    letters = [c for c in text if c.isalpha()]
    cjk = [c for c in letters if "\u4e00" <= c <= "\u9fff"]
    return len(cjk) >= 4 or len(letters) >= 12
