"""Where the resident lives: a verified phone, a shared location, an address in words.

Once the grid is known, a report that waited in triage for it (``triage_case_id``) goes to that
grid's leader.
"""

from __future__ import annotations

from gridline.core.answers import grid_name, registered
from gridline.core.conversation.states import AwaitingAddress, State, asking_address, settled
from gridline.core.conversation.states import registered as registered_state
from gridline.core.conversation.step import Step
from gridline.core.conversation.understood import words
from gridline.core.reports import reroute_after_registration
from gridline.domain.lifecycle import Priority
from gridline.nlu.priority import assess_priority
from gridline.nlu.types import NluResult
from gridline.routing.directory import Directory
from gridline.routing.latin_addresses import reads_as_latin_address
from gridline.storage import people
from gridline.storage.models import Case

# Answers that are not an address: after this many, or one this long, the words are understood.
TRIES_BEFORE_UNDERSTANDING = 2
LONGEST_ADDRESS = 25
LONGEST_LATIN_ADDRESS = 60
# What a resident says to us rather than where they live (「你好」「谢谢」「谁是我的网格长」): answered,
# and the question about the address stays open. Greetings and "who is my leader?" ask it themselves.
CONVERSATION = ("greet", "thanks", "smalltalk", "find_leader", "check_status")
ASKS_FOR_THE_ADDRESS = ("greet", "find_leader")


def understand_instead(step: Step, state: AwaitingAddress, nlu: NluResult | None) -> bool:
    """Whether this answer to "what is your address?", not being one, is understood as words instead
    of asking again: after two tries, a long answer, or one the NLU reads as a problem (「电梯里困住人了」
    right after 「在吗」 is a report to file, not an unknown address). An address in shape is not
    (「Mars Road 8」: to the model a road's name reads like a road problem), however often it is tried."""
    if len(step.text) <= LONGEST_LATIN_ADDRESS and reads_as_latin_address(step.text):
        return False
    if state.tries + 1 >= TRIES_BEFORE_UNDERSTANDING or len(step.text) > LONGEST_ADDRESS:
        return True
    return _reads_as_report(step, nlu)


def reads_as_conversation(step: Step, nlu: NluResult | None) -> bool:
    """An answer to "what is your address?" that the NLU confidently reads as talk to us (a greeting,
    thanks, "who is my grid leader?") — not an address that could not be found."""
    if nlu is None or nlu.intent not in CONVERSATION:
        return False
    return nlu.confidence >= step.services.settings.nlu.confidence_threshold


def _reads_as_report(step: Step, nlu: NluResult | None) -> bool:
    """An answer to "what is your address?" that the NLU confidently reads as a problem."""
    if nlu is None or not nlu.is_issue:
        return False
    urgent = assess_priority(nlu).priority != Priority.NORMAL
    return urgent or nlu.confidence >= step.services.settings.nlu.confidence_threshold


def verified_phone(step: Step, state: State) -> State:
    """A phone number the provider vouches for: the resident it belongs to, and maybe their grid."""
    people.link_resident_by_phone(step.work.session, step.sender, step.turn.msg.verified_phone or "")
    if step.resident.grid_code:
        step.say(registered(step.services, step.work, step.resident.grid_code))
        return after_registration(step, state)
    step.say("registration.ask_location")
    return asking_address(state)


def location(step: Step, state: State) -> State:
    """A shared location: the grid it lies in, or "outside the grids" and the question again."""
    assert step.turn.msg.location is not None
    lat, lon = step.turn.msg.location
    grid_code = Directory.for_services(step.services).locate(lon, lat)
    if grid_code is None:
        step.say("registration.outside")
        return asking_address(state)
    resident = step.resident
    resident.grid_code, resident.lat, resident.lon = grid_code, lat, lon
    step.say(registered(step.services, step.work, grid_code))
    return after_registration(step, state)


def address_answer(step: Step, state: AwaitingAddress) -> State:
    """The answer to "what is your address?": an address in the directory, else ask again — or
    understand the words, as any words are (``understand_instead``)."""
    text = step.text
    match = Directory.for_services(step.services).match_address(text)
    if match is not None:
        resident = step.resident
        resident.grid_code, resident.address_id = match.grid_code, match.address_id
        resident.address_text = match.address + (match.detail or "")
        step.say(registered(step.services, step.work, match.grid_code))
        return after_registration(step, state)
    turn = step.turn
    if reads_as_conversation(step, turn.fallback_nlu):
        _understood_instead(step)
        after = words(step, settled(state.options, state.triage_case_id))
        if step.resident.grid_code:
            return after
        if turn.nlu is None or turn.nlu.intent not in ASKS_FOR_THE_ADDRESS:
            step.say("registration.ask_location")
        return AwaitingAddress(state.tries, after.options, state.triage_case_id)
    if not understand_instead(step, state, turn.fallback_nlu):
        step.say("registration.address_not_found")
        return AwaitingAddress(state.tries + 1, state.options, state.triage_case_id)
    # Maybe it was a report, not an address: understand it rather than ask a third time.
    _understood_instead(step)
    return words(step, settled(state.options, state.triage_case_id))


def _understood_instead(step: Step) -> None:
    """Take the NLU's reading of an answer that is not an address as what the resident said."""
    turn = step.turn
    assert turn.fallback_nlu is not None, "understood before the transaction (the table says so)"
    turn.nlu = turn.fallback_nlu
    step.inbound.nlu, step.inbound.intent, step.inbound.confidence = (
        turn.nlu.to_rasa(), turn.nlu.intent, turn.nlu.confidence
    )


def after_registration(step: Step, state: State) -> State:
    """The resident just told us where they live: move a waiting triage case to their grid."""
    resident = step.resident
    assert resident.grid_code
    if state.triage_case_id:
        case = step.work.session.get(Case, state.triage_case_id)
        if case is not None and case.resident_id == resident.id and case.grid_code is None:
            reroute_after_registration(step.services, step.work, case, resident.grid_code, resident.address_text)
            step.about(case.id, case.ref)
            step.say("case.rerouted", ref=case.ref, grid=grid_name(step.work, resident.grid_code))
    return registered_state(state)
