"""The resident side of every channel: one inbound message in, replies (and maybe a case) out.

Bots translate provider payloads into :class:`~gridline.kernel.messages.InboundMessage`; this package
decides what it means for the conversation — registration, a report, a choice, a rating, a status
question — and hands reports to ``gridline.routing``. It never knows which provider carried the
message, and it answers with catalogue keys and facts (``Reply``), which each channel renders.

- ``states`` — where a conversation stands (``Idle``, ``ChoosingCategory``, ``AwaitingAddress``)
  and its stored form;
- ``inputs`` — the kinds of input (a command, a choice, a location, words, …);
- ``table`` — states × inputs → handlers, the one place that says what is handled how;
- handlers by concept: ``registration``, ``understood`` (words and reports; ``several``: one
  message, a case per problem), ``choices``, ``commands``, ``media``;
- ``turns`` (before the transaction: Redis's copy, numbers, the NLU), ``step`` (a turn inside
  it) and ``dialogue`` (the transaction: ``handle_inbound``).
"""

from gridline.core.conversation.dialogue import handle_inbound
from gridline.core.conversation.turns import state_key as _state_key

__all__ = ["_state_key", "handle_inbound"]
