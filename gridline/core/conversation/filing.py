"""Words filed as a report: a new case (asking its category when the model is unsure, or where it is
when nobody can place it), the same problem of a neighbour joined, or the same resident's again."""

from __future__ import annotations

from gridline.core.answers import staff_role
from gridline.core.conversation.follow_ups import say_followed_up
from gridline.core.conversation.several import file_several, problems_to_file
from gridline.core.conversation.states import AwaitingProblem, State, asking_address, offering, without_options
from gridline.core.conversation.step import Step
from gridline.core.reports import ReportDecision, decide_report, file_report
from gridline.i18n.phrases import Phrase
from gridline.kernel.messages import Option
from gridline.storage.models import Case


def report(step: Step, state: State) -> State:
    """The words filed as a report — at the place sent before them, when they were asked for."""
    nlu = step.turn.nlu
    assert nlu is not None
    place = state.place if isinstance(state, AwaitingProblem) else None
    decision = decide_report(step.services, step.work, step.sender, nlu, step.text, step.turn.msg, place=place)
    several = problems_to_file(step, decision, place)
    if len(several) > 1:
        return file_several(step, several, state)  # 「停水了，另外电梯也坏了」: a case each
    return file(step, several[0] if several else decision, state)


def file(step: Step, decision: ReportDecision, state: State) -> State:
    """A report filed: a new case (maybe asking its category or the address), or joined to one."""
    filed = file_report(step.services, step.work, step.sender, decision)
    case = filed.case
    step.about(case.id, case.ref)
    step.outcome.created_case, step.outcome.joined_case = filed.created, not filed.created
    if decision.priority == "emergency":
        # Nobody knows the grid yet: the supervisors on duty were alerted, not "the grid leader".
        step.say("emergency.advice" if case.grid_code else "emergency.advice_unplaced")
    if filed.again:
        say_followed_up(step, case, step.text)
        return state
    if not filed.created:
        step.say("case.joined", ref=case.ref, count=case.report_count)
        return state
    state = without_options(state)
    if decision.ask_category:
        options = category_options(case, decision.candidates)
        step.say("case.choose_category", options, ref=case.ref)
        state = offering(state, tuple(o.data for o in options))
        if case.grid_code is None:
            step.say(ask_where(case))
            return asking_address(state, case.id)
        return state
    if case.grid_code is None:
        step.say("case.created_triage", ref=case.ref)
        step.say(ask_where(case))
        return asking_address(state, case.id)
    category = Phrase(f"category.{case.category}")
    if filed.above:
        step.say("case.created_above", ref=case.ref, category=category)
    elif filed.holder_name:
        step.say("case.created", ref=case.ref, who=filed.holder_name, grid=filed.grid_name, category=category,
                 role=staff_role(filed.holder_role))  # fmt: skip
    else:
        step.say("case.created_nobody", ref=case.ref, grid=filed.grid_name, category=category)
    return state


def ask_where(case: Case) -> str:
    """What to ask a case that has no grid: where it is — or, when the resident named a place the
    directory cannot place, that it was not found (asking for "your address" again reads as if
    nobody listened)."""
    return "registration.address_not_found" if case.address_text else "registration.ask_location"


def category_options(case: Case, candidates: list[str]) -> tuple[Option, ...]:
    """The categories an unclear report may be, and "other" (the labels are the buttons')."""
    return (
        *(Option(Phrase(f"category.{c}"), f"cat:{case.ref}:{c}") for c in candidates),
        Option(Phrase("category.other"), f"cat:{case.ref}:other"),
    )
