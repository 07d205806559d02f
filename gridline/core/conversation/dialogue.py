"""One resident message end to end: prepared before its transaction, handled in it, copied after.

The transaction identifies the sender, reads the state on the conversation row, stores the inbound
message, runs the conversation table's route for the message's kind of input in that state, stores
the replies in the outbox and the next state on the row.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from gridline.core.conversation import table
from gridline.core.conversation.states import State, keep_state, read_state, to_dict
from gridline.core.conversation.step import Step
from gridline.core.conversation.turns import Turn, copy_is_trusted, follow_the_row, prepare, state_key, understand
from gridline.core.inbound_log import store_inbound
from gridline.edge.text import choice_number
from gridline.kernel.messages import InboundMessage, Outcome
from gridline.kernel.outbox import queue_message
from gridline.kernel.work import Work, in_transaction, sends_here
from gridline.routing import checkins
from gridline.routing.message_delivery import claim_new_message
from gridline.storage import conversations, outbox, people
from gridline.storage.people import Sender

if TYPE_CHECKING:
    from gridline.kernel.services import Services

log = logging.getLogger(__name__)


@dataclass
class Handled:
    outcome: Outcome
    # The conversation state to keep; None leaves it alone (duplicates, staff, not answered).
    new_state: State | None = None
    # Set when Redis's copy of the state was not the row's: the turn is prepared again for the row's.
    stale: State | None = None


async def handle_inbound(services: Services, msg: InboundMessage, *, deliver_replies: bool = True) -> Outcome:
    """Handle one resident message end to end (see the module docstring).

    Three steps so that nothing waits on the network inside the transaction: Redis and the NLU
    before it, one unit of work for everything the database holds (the conversation's state is on
    its row), Redis again after the commit (a copy of the state, so the next message knows
    whether to ask the NLU before its transaction). A copy that turned out stale costs one more turn.
    """
    turn = await prepare(services, msg)
    handled = await in_transaction(services, _converse, services, turn, deliver_replies)
    if handled.stale is not None:
        turn = await understand(services, Turn(msg=msg, state=handled.stale, trusted=False, choice=msg.choice))
        handled = await in_transaction(services, _converse, services, turn, deliver_replies)
    # The copy, after the commit (the row is the truth; a stale copy costs a turn, never a question).
    if handled.new_state is not None and copy_is_trusted(services):
        key, stored = state_key(msg), to_dict(handled.new_state)
        if stored:
            await services.state.set(key, stored, services.settings.redis.state_ttl_seconds)
        elif to_dict(turn.state) or not turn.trusted:
            await services.state.delete(key)
    return handled.outcome


def _converse(work: Work, services: Services, turn: Turn, deliver_replies: bool) -> Handled:
    """The unit of work of one message: who sent it, what it means for the conversation, the replies."""
    msg = turn.msg
    if msg.provider_message_id:
        # Stored already (a provider's retry, an event processed again): nothing to do. Asked in the
        # sender's SELECT.
        found = people.identify_unless_received(work.session, msg, work.now, msg.provider_message_id)
        if found is None:
            return Handled(Outcome())
        sender = found
    else:
        sender = people.identify(work.session, msg, work.now)
    if sender.staff is not None:
        # Staff replies (codes, commands) are the channel's business, but they are logged like any message.
        staff_message = store_inbound(work, sender, msg, None)
        return Handled(Outcome(staff_id=sender.staff.id, message_id=staff_message.id))
    assert sender.resident is not None
    if turn.rate_limited is not None:
        # Kept (nothing a resident sends is dropped), not answered.
        log.warning("not answering %s %s: %s", msg.channel, msg.external_id, turn.rate_limited)
        inbound = store_inbound(work, sender, msg, None)
        inbound.error = turn.rate_limited[:500]
        return Handled(Outcome(resident_id=sender.resident.id, message_id=inbound.id))
    state = read_state(sender.conversation, work.now)
    if turn.trusted and state != turn.state:
        # Redis's copy was stale (flushed, or not updated while Redis was away): nothing stored yet.
        return Handled(Outcome(), stale=state)
    if not turn.trusted:
        follow_the_row(turn, state)
    _checkin_answer(work, sender, turn)
    if turn.number is not None:
        options = conversations.latest_options(work.session, sender.identity.id or 0)
        if 1 <= turn.number <= len(options):
            turn.choice, turn.nlu, turn.fallback_nlu = options[turn.number - 1], None, None
    inbound = store_inbound(work, sender, msg, turn.nlu)
    step = Step(services, work, sender, turn, inbound, Outcome(resident_id=sender.resident.id, message_id=inbound.id))
    new_state = table.handle(step, turn.state, turn.input)
    outcome = step.outcome
    # Inside a job the replies are claimed as they are written and sent after the commit.
    settings = sends_here() if deliver_replies else None
    case_ref = _case_ref(work, outcome.case_id) if settings is not None else None
    for reply in step.replies:
        stored = queue_message(
            work,
            channel=msg.channel,
            identity=sender.identity,
            phrase=reply.phrase,
            lang=reply.lang,
            options=reply.options,
            case_id=outcome.case_id,
            resident_id=sender.resident.id,
            conversation_id=sender.conversation.id,
            deliver=deliver_replies,
            claimed=settings is not None,
        )
        if settings is not None:
            claim_new_message(work, stored, sender.identity, case_ref, settings)
        outcome.replies.append(replace(reply, message_id=stored.id))
    if outcome.case_id is not None and inbound.case_id is None:
        inbound.case_id = outcome.case_id
    keep_state(sender.conversation, new_state, work.now, services.settings.redis.state_ttl_seconds)
    return Handled(outcome, new_state)


def _case_ref(work: Work, case_id: int | None) -> str | None:
    """The reference of the case the replies are about: from the session (the case was filed or read
    in this unit of work), else one narrow SELECT (as the reply's claim would)."""
    return outbox.case_ref_known(work.session, case_id) if case_id is not None else None


def _checkin_answer(work: Work, sender: Sender, turn: Turn) -> None:
    """A bare "1"/"2" while a check-in or sweep question waits for this person answers it, whatever
    options an older message offered (the question is the latest thing we asked)."""
    msg = turn.msg
    if msg.choice is not None or msg.command is not None or sender.resident is None:
        return
    number = choice_number(turn.text)
    if number is None:
        return
    choice = checkins.waiting_choice(work, sender.identity.id, sender.resident.id, number)
    if choice is not None:
        turn.choice, turn.nlu, turn.fallback_nlu, turn.number = choice, None, None, None
