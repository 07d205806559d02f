"""The conversation as a table: in which state, which kind of input goes to which handler.

As python-telegram-bot's ``ConversationHandler``: ``STATES`` lists what a state handles its own
way, ``FALLBACKS`` what every state handles alike. A handler takes the turn (``step.Step``) and
the state and returns the next state; its replies are catalogue keys and facts (``step.say``).
The table also says which inputs need the NLU, which is asked *before* the transaction (it is a
network call): for words, and for an answer to "what is your address?" in case it is not one
(``registration.understand_instead``).

This is the one place that says which input is handled how in which state;
``tests/core/test_conversation_table.py`` reads like it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from gridline.core.conversation import choices, commands, media, registration, understood
from gridline.core.conversation.inputs import Input
from gridline.core.conversation.states import AwaitingAddress, AwaitingProblem, ChoosingCategory, Idle, State
from gridline.core.conversation.step import Step

Handler = Callable[[Step, Any], State]


class Nlu(Enum):
    """Whether a route needs the message understood before its transaction."""

    NOT_NEEDED = "not needed"
    ALWAYS = "always"
    IN_CASE_NOT_AN_ADDRESS = "in case not an address"  # the answer to "your address?" may be a report


@dataclass(frozen=True)
class Route:
    handler: Handler
    nlu: Nlu = Nlu.NOT_NEEDED


STATES: dict[type[State], dict[Input, Route]] = {
    Idle: {},
    # A bare number picks one of its options: it arrives as a CHOICE (turns.py reads numbers).
    ChoosingCategory: {},
    AwaitingAddress: {
        Input.WORDS: Route(registration.address_answer, Nlu.IN_CASE_NOT_AN_ADDRESS),
    },
    # Only a place was sent and the problem asked: the next report is filed at that place.
    AwaitingProblem: {
        Input.WORDS: Route(understood.problem_answer, Nlu.ALWAYS),
    },
}

FALLBACKS: dict[Input, Route] = {
    Input.COMMAND: Route(commands.command),
    Input.CHOICE: Route(choices.choice),
    Input.PHONE: Route(registration.verified_phone),
    Input.LOCATION: Route(registration.location),
    Input.MEDIA: Route(media.attach_media),
    Input.EMPTY: Route(commands.nothing),
    Input.CASE_QUERY: Route(commands.case_query),
    Input.WORDS: Route(understood.words, Nlu.ALWAYS),
}


def route(state: State, kind: Input) -> Route:
    """How ``kind`` of input is handled in ``state``."""
    return STATES[type(state)].get(kind) or FALLBACKS[kind]


def nlu_in_some_state(kind: Input) -> bool:
    """Whether some state's route for ``kind`` needs the NLU (asked when the state is not known)."""
    return any(route(state(), kind).nlu is not Nlu.NOT_NEEDED for state in STATES)


def handle(step: Step, state: State, kind: Input) -> State:
    """Run the route of ``kind`` in ``state``; the next state."""
    return route(state, kind).handler(step, state)
