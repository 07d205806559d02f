"""The resident conversation's table, read back: in each state, which input goes to which handler,
and which inputs are understood by the NLU before the transaction. Change the table, change this."""

from __future__ import annotations

import pytest

from gridline.core.conversation.inputs import Input
from gridline.core.conversation.states import (
    IDLE,
    AwaitingAddress,
    AwaitingProblem,
    ChoosingCategory,
    Idle,
    from_dict,
    to_dict,
)
from gridline.core.conversation.table import STATES, route

# state             input        handler                         NLU before the transaction
TABLE = """
Idle                command      commands.command                not needed
Idle                choice       choices.choice                  not needed
Idle                phone        registration.verified_phone     not needed
Idle                location     registration.location           not needed
Idle                media        media.attach_media              not needed
Idle                empty        commands.nothing                not needed
Idle                case_query   commands.case_query             not needed
Idle                words        understood.words                always
ChoosingCategory    command      commands.command                not needed
ChoosingCategory    choice       choices.choice                  not needed
ChoosingCategory    phone        registration.verified_phone     not needed
ChoosingCategory    location     registration.location           not needed
ChoosingCategory    media        media.attach_media              not needed
ChoosingCategory    empty        commands.nothing                not needed
ChoosingCategory    case_query   commands.case_query             not needed
ChoosingCategory    words        understood.words                always
AwaitingAddress     command      commands.command                not needed
AwaitingAddress     choice       choices.choice                  not needed
AwaitingAddress     phone        registration.verified_phone     not needed
AwaitingAddress     location     registration.location           not needed
AwaitingAddress     media        media.attach_media              not needed
AwaitingAddress     empty        commands.nothing                not needed
AwaitingAddress     case_query   commands.case_query             not needed
AwaitingAddress     words        registration.address_answer     in case not an address
AwaitingProblem     command      commands.command                not needed
AwaitingProblem     choice       choices.choice                  not needed
AwaitingProblem     phone        registration.verified_phone     not needed
AwaitingProblem     location     registration.location           not needed
AwaitingProblem     media        media.attach_media              not needed
AwaitingProblem     empty        commands.nothing                not needed
AwaitingProblem     case_query   commands.case_query             not needed
AwaitingProblem     words        understood.problem_answer       always
"""


def _rows() -> list[tuple[str, str, str, str]]:
    rows = []
    for state in STATES:
        for kind in Input:
            chosen = route(state(), kind)
            handler = f"{chosen.handler.__module__.rsplit('.', 1)[-1]}.{chosen.handler.__name__}"
            rows.append((state.__name__, kind.value, handler, chosen.nlu.value))
    return rows


def test_the_table_is_the_one_written_above():
    written = [tuple(line.split(maxsplit=3)) for line in TABLE.strip().splitlines()]
    assert _rows() == written


def test_every_state_handles_every_kind_of_input():
    assert [s.__name__ for s in STATES] == ["Idle", "ChoosingCategory", "AwaitingAddress", "AwaitingProblem"]
    assert len(_rows()) == len(STATES) * len(Input)


@pytest.mark.parametrize(
    ("stored", "state"),
    [
        ({}, IDLE),
        ({"awaiting": "address"}, AwaitingAddress()),
        ({"awaiting": "address", "tries": 1}, AwaitingAddress(tries=1)),
        ({"awaiting": "address", "triage_case_id": 7}, AwaitingAddress(triage_case_id=7)),
        ({"options": ["cat:W4RGMD:noise", "cat:W4RGMD:other"]}, ChoosingCategory(("cat:W4RGMD:noise", "cat:W4RGMD:other"))),  # noqa: E501
        (
            {"options": ["cat:W4RGMD:other"], "awaiting": "address", "triage_case_id": 7},
            AwaitingAddress(0, ("cat:W4RGMD:other",), 7),
        ),
        ({"triage_case_id": 7}, Idle(triage_case_id=7)),
        ({"awaiting": "problem", "place": "红松路12号3单元"}, AwaitingProblem("红松路12号3单元")),
    ],
)
def test_the_stored_form_is_the_one_rows_and_redis_copies_already_hold(stored, state):
    assert from_dict(stored) == state
    assert to_dict(state) == stored


def test_the_category_question_names_its_case():
    assert ChoosingCategory(("cat:W4RGMD:noise", "cat:W4RGMD:other")).case_ref == "W4RGMD"
