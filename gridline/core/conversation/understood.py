"""Words the NLU understood: a question (who is my leader, my cases), an answer to "解决了吗？",
small talk, only a place (the problem is asked), or a report that becomes a case."""

from __future__ import annotations

from typing import Any

from gridline.core.answers import find_leader, holder, open_cases, staff_role
from gridline.core.conversation import details
from gridline.core.conversation.gone import problem_gone
from gridline.core.conversation.states import (
    IDLE,
    AwaitingAddress,
    AwaitingProblem,
    State,
    asking_address,
    asking_problem,
    offering,
    settled,
    without_options,
)
from gridline.core.conversation.step import Step
from gridline.core.reports import ReportDecision, decide_report, file_report
from gridline.domain.lifecycle import OPEN_CASE_STATUSES, CaseStatus, Priority
from gridline.i18n.phrases import Phrase
from gridline.kernel.messages import Option
from gridline.nlu.places import only_a_place
from gridline.nlu.priority import assess_priority
from gridline.nlu.solved_words import solved_in_words, still_wrong
from gridline.nlu.types import OUT_OF_SCOPE
from gridline.routing import closure, resident_words
from gridline.routing.cases import already_reported, join_case
from gridline.routing.directory import Directory
from gridline.storage import cases as case_store
from gridline.storage import outbox, reporters
from gridline.storage.models import Case

SMALL_TALK = ("greet", "thanks", "affirm", "deny", "smalltalk")


def words(step: Step, state: State) -> State:
    """What the resident said, as the NLU understood it (before the transaction)."""
    nlu = step.turn.nlu
    assert nlu is not None, "understood before the transaction (the table says so)"
    resident, text, intent = step.resident, step.text, nlu.intent
    confident = nlu.confidence >= step.services.settings.nlu.confidence_threshold
    if not nlu.is_issue and assess_priority(nlu).priority == Priority.EMERGENCY:
        # 「someone is having a heart attack in the lobby」 read as a status question is still a danger:
        # a report (category emergency, core.reports), never a status list or small talk.
        return report(step, state)
    plain = solved_in_words(text)
    if plain is not None and (asked := closure.awaiting_confirmation(step.work, resident.id or 0)) is not None:
        # A plain 解决了 / 没解决 answers "解决了吗？" whatever the model makes of it (it reads a bare
        # 解决了 as check_status).
        solved_answer(step, asked, plain, text)
        return state
    gone = problem_gone(step, state)
    if gone is not None:
        # 「不用来了，水已经来了」: filed, it would open a case for a problem that is gone.
        return gone
    place = place_alone(step, confident)
    if place is not None:
        # Where, not what: a case filed now would take the category the address's characters resemble.
        step.say("conversation.ask_problem", place=place)
        return asking_problem(state, place)
    if confident and intent == "find_leader":
        step.say(find_leader(step.services, step.work, resident.grid_code))
        # Without a grid the answer asks for the address: the next words are the answer to it.
        return state if resident.grid_code else asking_address(IDLE)
    if confident and intent == "check_status":
        step.say(open_cases(step.work, resident.id or 0))
        return state
    if plain is not None or intent in ("affirm", "deny", "thanks") or nlu.is_issue or still_wrong(text):
        # An answer to "解决了吗？" in words — "解决了，谢谢", "没有解决", or the same problem again
        # ("还是没水") — goes to that case, with the resident's own words for the level above.
        pending = closure.awaiting_confirmation(step.work, resident.id or 0)
        if pending is not None and plain is None and intent in ("affirm", "deny", "thanks"):
            plain = intent != "deny"  # a thank-you for a fixed problem is a yes
        elif pending is not None and plain is None and intent == pending.category:
            plain = False
        elif pending is not None and plain is None and still_wrong(text) and not (confident and nlu.is_issue):
            plain = False  # 「灯还是不亮啊」: the model may read another category, but it is still broken
        if pending is not None and plain is not None:
            solved_answer(step, pending, plain, text)
            return state
    if confident and intent in SMALL_TALK:
        replied = replied_case(step, confident)
        if replied is not None:
            # 「好的」「谢谢」 in reply to the leader's relayed words answers the leader: on the case's log.
            step.about(replied.id, replied.ref)
        step.say(f"conversation.{intent}")
        if intent == "greet" and not resident.grid_code:
            step.say("registration.ask_location")
            return asking_address(state)
        return state
    answered = replied_case(step, confident)
    if answered is not None:
        return follow_up(step, answered, state)
    detail = details.detail_of(step, confident)
    if detail is not None:
        return follow_up(step, detail.case, state, detail=True, maybe=detail.maybe)
    if not nlu.is_issue and (intent == OUT_OF_SCOPE or not substantive(text)):
        step.say("conversation.not_understood")
        return state
    return report(step, state)


def report(step: Step, state: State) -> State:
    """The words filed as a report — at the place sent before them, when they were asked for."""
    nlu = step.turn.nlu
    assert nlu is not None
    place = state.place if isinstance(state, AwaitingProblem) else None
    decision = decide_report(step.services, step.work, step.sender, nlu, step.text, step.turn.msg, place=place)
    return file(step, decision, state)


def place_alone(step: Step, confident: bool) -> str | None:
    """The place the message names when it is only a place (an address, maybe with a greeting) sent
    unprompted — not the answer to 「您的住址？」 (``registration``), nor a reply about a case of theirs."""
    nlu = step.turn.nlu
    if nlu is None or isinstance(step.turn.state, AwaitingAddress):
        return None
    place = only_a_place(step.text, nlu.entities)
    if place is None or replied_case(step, confident) is not None:
        return None
    return place


def problem_answer(step: Step, state: AwaitingProblem) -> State:
    """What the resident says after being asked what is wrong at the place they sent: a report is
    filed there; anything else (a greeting, "who is my leader?") is answered and the question stays."""
    after = words(step, state)
    if step.outcome.case_id is not None and isinstance(after, AwaitingProblem):
        return settled(after.options, after.triage_case_id)  # joined a case: the place was for this report
    return after


def replied_case(step: Step, confident: bool) -> Case | None:
    """The open case the resident answers by replying to one of our messages about it (the leader's
    words relayed: 「好的，我下午三点在家」) — unless the words are clearly another problem."""
    ref, nlu = step.turn.msg.reply_to_case_ref or replied_by_sms(step) or called_again(step), step.turn.nlu
    case = case_store.by_ref(step.work.session, ref) if ref else None
    if case is None or case.status not in OPEN_CASE_STATUSES:
        return None
    if not already_reported(step.work.session, case, step.resident.id):
        return None
    if nlu is not None and nlu.is_issue and confident and nlu.intent != case.category:
        return None
    return case


def replied_by_sms(step: Step) -> str | None:
    """A text has no "reply to": one that comes after the leader's words relayed to this resident
    by SMS (the newest message they got) answers them — 「请问是几楼？」, then 「5楼，东边那户」."""
    if step.turn.msg.channel != "sms" or step.resident.id is None:
        return None
    last = outbox.last_to_resident(step.work.session, step.resident.id, "sms")
    if last is None or last[1] != "case.leader_says" or last[0] is None:
        return None
    return outbox.case_ref(step.work.session, last[0])


def called_again(step: Step) -> str | None:
    """A call has no "reply to" either: a caller with an open case someone holds (who acknowledged
    it, else its assignee) who speaks again — on a second call, or later in the same one — is talking
    about that case (the one they last spoke or wrote about): 「在5号楼2单元东边那户，麻烦快点」 goes to
    its holder, unless it is clearly another problem (``replied_case``)."""
    if step.turn.msg.channel != "voice" or step.resident.id is None:
        return None
    case = reporters.last_written_about(step.work.session, step.resident.id, statuses=OPEN_CASE_STATUSES)
    if case is None or not (case.acknowledged_by or case.assignee_staff_id):
        return None
    return case.ref


def follow_up(
    step: Step, case: Case, state: State, *, detail: bool = False, maybe: dict[str, Any] | None = None
) -> State:
    """More words about a case the resident reported: logged on it, not a new case or a second
    reporter. ``detail``: words sent soon after (``details``); ``maybe``: the other problem the
    model reads in them, offered as a choice to report them apart."""
    join_case(step.work, case, resident_id=step.resident.id, summary=step.text, channel=step.turn.msg.channel,
              maybe=maybe)  # fmt: skip
    step.about(case.id, case.ref)
    options: tuple[Option, ...] = ()
    if maybe is not None:
        category = Phrase(f"category.{maybe['intent']}")
        options = (Option(Phrase("case.split_option", {"category": category}), f"split:{case.ref}:{maybe['intent']}"),)
        state = offering(state, tuple(o.data for o in options))
    say_followed_up(step, case, step.text, detail=detail, options=options)
    return state


def say_followed_up(
    step: Step, case: Case, words: str | None = None, *, detail: bool = False, options: tuple[Option, ...] = ()
) -> None:
    """「您已反映过这个问题（工单 …：stage，处理人：…）」 (「已补充到工单 …」 for a ``detail``) — or,
    when the words reached whoever holds the case (``routing.resident_words``), 「已转告处理人…」;
    with ``options``, the choice to report them apart."""
    told = resident_words.tell_holder(step.work, case, words) if words else None
    key = "case.followed_up_told" if told is not None else ("case.detail_added" if detail else "case.followed_up")
    who = told.name if told is not None else holder_name(step, case)
    if options:
        key = "case.followed_up_told_or_new" if told is not None else "case.detail_added_or_new"
    step.say(key, options, ref=case.ref, status=Phrase(f"case_status.{case.status}"), who=who)


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
    if filed.holder_name:
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


def holder_name(step: Step, case: Case) -> str | Phrase:
    """Who has the case now, or 「待接单」 (:func:`core.answers.holder`)."""
    return holder(step.work, case)


def category_options(case: Case, candidates: list[str]) -> tuple[Option, ...]:
    """The categories an unclear report may be, and "other" (the labels are the buttons')."""
    return (
        *(Option(Phrase(f"category.{c}"), f"cat:{case.ref}:{c}") for c in candidates),
        Option(Phrase("category.other"), f"cat:{case.ref}:other"),
    )


def solved_answer(step: Step, case: Case, solved: bool, words: str | None) -> None:
    """The resident's answer to "解决了吗？" (routing.closure)."""
    actor = f"resident:{step.resident.id}"
    if solved:
        ok = closure.confirmed_solved(step.work, case, actor, resident_id=step.resident.id)
    else:
        grids = Directory.for_services(step.services).grids
        tz = step.services.settings.timezone
        paged = closure.not_solved(step.work, grids, tz, case, actor, words, resident_id=step.resident.id)
        ok = bool(paged) or case.status == "paged"
    if not ok:
        step.say(not_now(case), ref=case.ref)


def not_now(case: Case) -> str:
    """What to say to an answer about a case that no longer waits for it (a button tapped after the
    question was answered in words, or after the case moved on): closed already, or still in hand."""
    return "case.answered_already" if case.status == CaseStatus.CLOSED else "case.rating_not_now"


def substantive(text: str) -> bool:
    """Enough words to be worth a person's attention (not a stray emoji or 'ok')."""
    letters = [c for c in text if c.isalpha()]
    cjk = [c for c in letters if "\u4e00" <= c <= "\u9fff"]
    return len(cjk) >= 4 or len(letters) >= 12
