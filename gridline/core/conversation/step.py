"""One message's turn inside its transaction: what a handler of the conversation table is given."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gridline.i18n.phrases import Phrase
from gridline.kernel.messages import Option, Outcome, Reply
from gridline.kernel.work import Work
from gridline.storage.models import Message, Resident
from gridline.storage.people import Sender

if TYPE_CHECKING:
    from gridline.core.conversation.turns import Turn
    from gridline.kernel.services import Services


@dataclass
class Step:
    """The services, the unit of work, who wrote and what they wrote, and the replies so far."""

    services: Services
    work: Work
    sender: Sender
    turn: Turn
    inbound: Message  # the stored inbound message
    outcome: Outcome
    replies: list[Reply] = field(default_factory=list)

    @property
    def resident(self) -> Resident:
        resident = self.sender.resident
        assert resident is not None, "the conversation table is for residents"
        return resident

    @property
    def lang(self) -> str:
        return self.sender.lang

    @property
    def text(self) -> str:
        return (self.turn.msg.text or "").strip()

    def say(self, what: Phrase | str, options: tuple[Option, ...] = (), **params: Any) -> None:
        """Reply with catalogue message ``what`` (a key and ``params``, or a phrase)."""
        phrase = what if isinstance(what, Phrase) else Phrase(what, params)
        self.replies.append(Reply(phrase.key, phrase.params, options, self.lang))

    def about(self, case_id: int | None, case_ref: str | None) -> None:
        """The turn is about this case (the outcome names it, the inbound message is filed on it)."""
        self.outcome.case_id, self.outcome.case_ref = case_id, case_ref
