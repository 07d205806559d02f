"""「不用来了，水已经来了」: the problem went away before anyone solved it.

Filed as a report, those words opened a second water case and paged a leader for nothing. Now they
ask the resident which open case they mean — the one whose category the model ranks highest in
the words, else the newest — with a yes that withdraws it (``gone:<ref>:yes``, ``routing.withdrawal``)
and a no that keeps it. With no open case there is nothing to withdraw: the answer is glad, and
nothing is filed."""

from __future__ import annotations

from gridline.core.conversation.details import ranked_first
from gridline.core.conversation.states import State
from gridline.core.conversation.step import Step
from gridline.domain.lifecycle import OPEN_CASE_STATUSES
from gridline.i18n.phrases import Phrase
from gridline.kernel.messages import Option
from gridline.nlu.solved_words import gone_in_words
from gridline.routing.withdrawal import Withdrawal, withdraw
from gridline.storage import conversations, reporters
from gridline.storage.models import Case

OPEN_CASES_ASKED_ABOUT = 5
WITHDRAWN_REPLIES = {
    Withdrawal.WITHDRAWN: "case.withdrawn",
    Withdrawal.OTHERS_REPORTED: "case.withdrawn_others",
}


def problem_gone(step: Step, state: State) -> State | None:
    """The answer to words saying the problem went away, or None when they do not say that."""
    if not gone_in_words(step.text) or step.resident.id is None:
        return None
    statuses = [s.value for s in OPEN_CASE_STATUSES]
    open_cases = reporters.open_cases_of(step.work.session, step.resident.id, statuses=statuses,
                                         limit=OPEN_CASES_ASKED_ABOUT)  # fmt: skip
    if not open_cases:
        step.say("conversation.glad_gone")
        return state
    case = ranked_first(step, open_cases)
    step.about(case.id, case.ref)
    options = (
        Option(Phrase("case.gone_yes"), f"gone:{case.ref}:yes"),
        Option(Phrase("case.gone_no"), f"gone:{case.ref}:no"),
    )
    step.say("case.gone_ask", options=options, ref=case.ref, category=Phrase(f"category.{case.category}"))
    return state


def gone_answer(step: Step, case: Case, yes: bool) -> None:
    """The resident's answer to "is the problem of case … gone?"."""
    if not yes:
        step.say("case.gone_kept", ref=case.ref)
        return
    words = _their_words(step, case)
    outcome = withdraw(step.work, case, step.resident.id or 0, words)
    step.say(WITHDRAWN_REPLIES.get(outcome, "case.gone_kept"), ref=case.ref)


def _their_words(step: Step, case: Case) -> str:
    """What the resident said about the problem being gone: their last such words on the case (the
    question was asked about them, so they were kept on it)."""
    said = [
        m.text for m in conversations.of_case(step.work.session, case.id or 0)
        if m.direction == "in" and m.text and gone_in_words(m.text)
    ]  # fmt: skip
    return said[-1] if said else ""
