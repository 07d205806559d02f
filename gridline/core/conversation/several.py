"""A message that names several problems — 「停水了，另外电梯也坏了」 — files one case per problem,
so that each reaches whoever handles it, and is answered once with every reference.

The clauses were read before the transaction (``turns.read_words``); ``nlu.clauses.problems_in``
says which problems they name (two or more categories the model is sure of, at most three). Each
problem is decided and filed as a report of its own (``core.reports``: it joins an open case of the
same problem at the same place as any report does), with its own clauses as the case's summary;
the whole message stays on the first case's timeline (the inbound message is filed on it), and
every case's timeline says which others came from the same message (``filed_together``; the
others carry the whole text, so a supervisor reading any of them sees what was said).

Not split — one case as before — when a problem's words say nothing is wrong
(``details.names_a_problem``: 「地漏老是反臭味，还有小飞虫」 is one problem, though the model reads
the flies as 安全隐患), for a sender nobody can place (the address asked for settles one case),
when a problem would have no grid, or when a clause alone reads as an emergency the whole message
is not (out of context). An emergency keeps its handling: the whole message is the emergency's
case (its summary), and every other problem the model is sure of that is no emergency itself and
not of the emergency's category is filed too.
"""

from __future__ import annotations

from gridline.core.conversation.details import names_a_problem
from gridline.core.conversation.states import State, without_options
from gridline.core.conversation.step import Step
from gridline.core.reports import Filed, ReportDecision, decide_report, file_report
from gridline.domain.lifecycle import Priority
from gridline.i18n.phrases import Phrase
from gridline.nlu.clauses import MOST_PROBLEMS, problems_in
from gridline.routing import resident_words
from gridline.routing.timeline import record_event


def problems_to_file(step: Step, whole: ReportDecision, place: str | None) -> list[ReportDecision]:
    """The reports the message makes, one per problem — [] when it is one report (``whole``)."""
    turn, services = step.turn, step.services
    if not turn.clauses or turn.nlu is None or whole.draft.grid_code is None:
        return []
    problems = problems_in(turn.clauses, services.settings.nlu.confidence_threshold)
    if not all(names_a_problem(p.summary) for p in problems):
        # 「地漏老是反臭味，还有小飞虫」: the flies are what the smell brings, not a second case.
        return []
    decided = [
        decide_report(services, step.work, step.sender, p.nlu, p.summary, turn.msg, place=place, message=turn.nlu)
        for p in problems
    ]
    if any(d.draft.grid_code is None for d in decided):
        return []
    if whole.priority != Priority.EMERGENCY:
        # A clause alone may read as an emergency the whole message is not: out of its context,
        # not a reason to page as one (the emergency rules read the whole message, as before).
        return [] if any(d.priority == Priority.EMERGENCY for d in decided) else decided
    others = [
        d for d in decided if d.priority != Priority.EMERGENCY and d.draft.category != whole.draft.category
    ]  # the whole message is the emergency's case
    return [whole, *others][:MOST_PROBLEMS]


def file_several(step: Step, decisions: list[ReportDecision], state: State) -> State:
    """File each report, tell each case about the others, and answer once with every reference."""
    filed = [file_report(step.services, step.work, step.sender, d) for d in decisions]
    first = filed[0]
    step.about(first.case.id, first.case.ref)
    step.outcome.created_case, step.outcome.joined_case = first.created, not first.created
    if any(d.priority == Priority.EMERGENCY for d in decisions):
        step.say("emergency.advice")  # every case here has a grid (``problems_to_file``)
    for one, decision in zip(filed, decisions, strict=True):
        if one.again:
            resident_words.tell_holder(step.work, one.case, decision.draft.summary)
        data: dict[str, object] = {"with": [f.case.ref for f in filed if f is not one], "message_id": step.inbound.id}
        if one is not first:
            data["text"] = step.text[:500]  # the message is on the first case's timeline only
        record_event(step.work, one.case.id or 0, "filed_together", "system", data)
    step.say("case.filed_several", count=len(filed), filed=[item(one) for one in filed])
    return without_options(state)


def item(one: Filed) -> Phrase:
    """One case in the answer: its category and reference, and whether it was reported before."""
    case = one.case
    facts = {"category": Phrase(f"category.{case.category}"), "ref": case.ref}
    if one.again:
        return Phrase("case.filed_item_again", facts)
    if not one.created:
        return Phrase("case.filed_item_joined", {**facts, "count": case.report_count})
    return Phrase("case.filed_item", facts)
