"""Where a resident's conversation stands: the question Gridline asked last, the options it offered.

A state is one of three typed values, kept on the conversation row (the truth, written in the
message's own transaction) with a copy in the state store (Redis, or the in-process store on
SQLite) so the next message knows before its transaction whether to ask the NLU:

- :class:`Idle` — nothing asked;
- :class:`ChoosingCategory` — the last report was unclear and its reply offered categories
  (``options``: the option data, ``cat:<ref>:<category>``); a bare number picks one;
- :class:`AwaitingAddress` — Gridline asked where the resident lives; ``tries`` counts the answers
  that were not an address;
- :class:`AwaitingProblem` — the resident sent only a place (「红松路12号3单元」) and Gridline asked
  what the problem is; ``place`` is where the report that answers it is.

Every state may remember the options still offered and ``triage_case_id``: a report that waits in
triage for the resident's address (a location or a verified phone shared later still moves it).
The questions about a case — "解决了吗？", "please rate" — are the case's (``routing.closure``), not
the conversation's: their answers come back as choices or words whatever the state.

The stored form is the dict the conversation has always kept (``{"awaiting": "address", "tries":
1, "options": [...], "triage_case_id": 7}``; ``{"awaiting": "problem", "place": "红松路12号3单元"}``):
:func:`to_dict` / :func:`from_dict` read and write it,
so rows and Redis copies written before the states were typed read the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from gridline.storage.models import Conversation


@dataclass(frozen=True)
class Idle:
    """Nothing asked."""

    options: tuple[str, ...] = ()
    triage_case_id: int | None = None


@dataclass(frozen=True)
class ChoosingCategory:
    """Categories offered for an unclear report; a bare number (or a button) picks one."""

    options: tuple[str, ...] = ()
    triage_case_id: int | None = None

    @property
    def case_ref(self) -> str | None:
        """The reference of the case the categories are for (``cat:<ref>:<category>``)."""
        parts = self.options[0].split(":") if self.options else []
        return parts[1] if len(parts) == 3 else None


@dataclass(frozen=True)
class AwaitingAddress:
    """Asked where the resident lives; ``tries`` answers so far were not an address."""

    tries: int = 0
    options: tuple[str, ...] = ()
    triage_case_id: int | None = None


@dataclass(frozen=True)
class AwaitingProblem:
    """The resident sent only a place and was asked what is wrong there; the next report is at ``place``."""

    place: str = ""
    options: tuple[str, ...] = ()
    triage_case_id: int | None = None


State = Idle | ChoosingCategory | AwaitingAddress | AwaitingProblem
IDLE = Idle()


def settled(options: tuple[str, ...] = (), triage_case_id: int | None = None) -> State:
    """The state with no question about the address open: choosing a category if options are offered."""
    if options:
        return ChoosingCategory(options, triage_case_id)
    return Idle((), triage_case_id)


def asking_address(state: State, triage_case_id: int | None = None) -> AwaitingAddress:
    """``state`` once Gridline asked for the address (the options offered stay offered)."""
    tries = state.tries if isinstance(state, AwaitingAddress) else 0
    return AwaitingAddress(tries, state.options, triage_case_id or state.triage_case_id)


def asking_problem(state: State, place: str) -> AwaitingProblem:
    """``state`` once Gridline asked what is wrong at ``place`` (the options offered stay offered)."""
    return AwaitingProblem(place, state.options, state.triage_case_id)


def registered(state: State) -> State:
    """``state`` once the resident's grid is known: no question about the address, no triage case."""
    return settled(state.options)


def without_options(state: State) -> State:
    """``state`` after a new report: the options offered for an earlier one are gone."""
    if isinstance(state, AwaitingAddress):
        return AwaitingAddress(state.tries, (), state.triage_case_id)
    return settled((), state.triage_case_id)


def offering(state: State, options: tuple[str, ...]) -> State:
    """``state`` with ``options`` offered (a question about the address stays open)."""
    if isinstance(state, AwaitingAddress):
        return AwaitingAddress(state.tries, options, state.triage_case_id)
    return settled(options, state.triage_case_id)


def to_dict(state: State) -> dict[str, Any]:
    """The stored form ({} for a plain Idle, which is stored as nothing)."""
    stored: dict[str, Any] = {}
    if isinstance(state, AwaitingAddress):
        stored["awaiting"] = "address"
        if state.tries:
            stored["tries"] = state.tries
    if isinstance(state, AwaitingProblem):
        stored["awaiting"], stored["place"] = "problem", state.place
    if state.options:
        stored["options"] = list(state.options)
    if state.triage_case_id is not None:
        stored["triage_case_id"] = state.triage_case_id
    return stored


def from_dict(stored: dict[str, Any] | None) -> State:
    """The state :func:`to_dict` (or the untyped conversation before it) stored."""
    stored = stored or {}
    options = tuple(str(o) for o in stored.get("options") or ())
    triage = stored.get("triage_case_id")
    triage_case_id = int(triage) if triage else None
    if stored.get("awaiting") == "address":
        return AwaitingAddress(int(stored.get("tries", 0)), options, triage_case_id)
    if stored.get("awaiting") == "problem":
        return AwaitingProblem(str(stored.get("place") or ""), options, triage_case_id)
    return settled(options, triage_case_id)


def read_state(conversation: Conversation, now: datetime) -> State:
    """The conversation's state unless it has expired."""
    if not conversation.state or conversation.state_expires_at is None or conversation.state_expires_at <= now:
        return IDLE
    return from_dict(dict(conversation.state))


def keep_state(conversation: Conversation, state: State, now: datetime, ttl_seconds: float) -> None:
    """Store ``state`` on the conversation row, in the message's transaction (Idle forgets it)."""
    stored = to_dict(state)
    if stored:
        conversation.state = stored
        conversation.state_expires_at = now + timedelta(seconds=ttl_seconds)
    elif conversation.state is not None:
        conversation.state, conversation.state_expires_at = None, None
