"""Before the transaction: the rate limit, Redis's copy of the state, numbers read as choices, and
the NLU where the conversation table needs it (network calls never wait inside a transaction)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from gridline.core.conversation.inputs import Input, input_of
from gridline.core.conversation.states import IDLE, State, from_dict
from gridline.core.conversation.table import Nlu, nlu_in_some_state, route
from gridline.edge.text import choice_number
from gridline.kernel.messages import InboundMessage
from gridline.nlu.clauses import split_clauses
from gridline.nlu.types import NluResult

if TYPE_CHECKING:
    from gridline.kernel.services import Services


@dataclass
class Turn:
    """What one inbound message amounts to, worked out before the transaction (Redis, the NLU)."""

    msg: InboundMessage
    # The conversation state the turn was prepared for. The truth is on the conversation row; this
    # is Redis's copy (``trusted``) or, when Redis cannot say, Idle, and then the NLU is asked
    # whatever the state, so that the transaction can follow the row without the network.
    state: State = field(default=IDLE)
    trusted: bool = True
    nlu: NluResult | None = None
    # When the words name more than one matter (「停水了，另外电梯也坏了」): each clause as the NLU
    # read it (``nlu.clauses``), so that each problem may become a case (``several``).
    clauses: list[NluResult] = field(default_factory=list)
    choice: str | None = None
    # A bare number with no options remembered: the database may know what we offered.
    number: int | None = None
    # Understood in advance in case the address we asked for turns out not to be one.
    fallback_nlu: NluResult | None = None
    rate_limited: str | None = None

    @property
    def text(self) -> str:
        return (self.msg.text or "").strip()

    @property
    def input(self) -> Input:
        return input_of(self.msg, self.choice)


def copy_is_trusted(services: Services) -> bool:
    """Whether the state store's copy of the state is worth reading and writing.

    Redis while it answers; without Redis the in-process store on SQLite (one process). On
    PostgreSQL without Redis, or while Redis is down, each process would keep a copy of its own.
    """
    if services.redis is not None:
        return services.redis.available
    return services.db.is_sqlite


def state_key(msg: InboundMessage) -> str:
    # One key per channel identity, known before the database is asked who the sender is.
    return f"conv:{msg.channel}:{msg.bot_name}:{msg.external_id}"


async def prepare(services: Services, msg: InboundMessage) -> Turn:
    """Everything that needs the network: the rate limit and Redis's copy of the state, the NLU."""
    sent_lately = await services.state.hit(f"rate:{msg.channel}:{msg.bot_name}:{msg.external_id}", 60)
    if sent_lately > services.settings.cases.max_messages_per_minute:
        return Turn(msg=msg, rate_limited=f"rate limited: {sent_lately} messages in a minute")
    trusted = copy_is_trusted(services)
    state = from_dict(await services.state.get(state_key(msg))) if trusted else IDLE
    return await understand(services, Turn(msg=msg, state=state, trusted=trusted, choice=msg.choice))


async def understand(services: Services, turn: Turn) -> Turn:
    """Read a bare number as the option it picks; ask the NLU if the table's route needs it."""
    text = turn.text
    # A bare number on SMS/voice answers the options we offered last.
    number = choice_number(text) if turn.choice is None else None
    if number is not None:
        options = turn.state.options
        if not options or not turn.trusted:
            turn.number = number
        elif 1 <= number <= len(options):
            turn.choice = options[number - 1]
    kind = turn.input
    if not turn.trusted:
        if nlu_in_some_state(kind):
            turn.nlu, turn.clauses = await read_words(services, text)
        return turn
    needs = route(turn.state, kind).nlu
    if needs is Nlu.ALWAYS:
        turn.nlu, turn.clauses = await read_words(services, text)
    elif needs is Nlu.IN_CASE_NOT_AN_ADDRESS:
        # Whether the words are a report instead is decided in the transaction, with the directory.
        turn.fallback_nlu = await services.nlu.parse(text)
    return turn


async def read_words(services: Services, text: str) -> tuple[NluResult, list[NluResult]]:
    """The words as the NLU reads them and, when they name more than one matter, each clause
    (``nlu.clauses``; one more NLU call a clause, asked together, before the transaction)."""
    parts = split_clauses(text)
    if len(parts) < 2:
        return await services.nlu.parse(text), []
    whole, *clauses = await asyncio.gather(services.nlu.parse(text), *(services.nlu.parse(p) for p in parts))
    return whole, clauses


def follow_the_row(turn: Turn, state: State) -> None:
    """Adapt an untrusted turn (the NLU was asked regardless) to the state on the row."""
    turn.state = state
    if turn.number is not None and state.options:
        # As a trusted turn would: the options remembered decide, the database's latest are not asked.
        if 1 <= turn.number <= len(state.options):
            turn.choice, turn.nlu = state.options[turn.number - 1], None
        turn.number = None
    if route(state, turn.input).nlu is Nlu.IN_CASE_NOT_AN_ADDRESS:
        turn.fallback_nlu, turn.nlu = turn.nlu, None
