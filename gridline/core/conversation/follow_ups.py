"""More words about a case the resident reported — a reply to our message about it (the leader's
words relayed), a text after those words reached them by SMS, a caller speaking again — logged on
that case and passed on to whoever holds it, not filed as a new case or a second reporter."""

from __future__ import annotations

from typing import Any

from gridline.core.answers import holder
from gridline.core.conversation.states import State, offering
from gridline.core.conversation.step import Step
from gridline.domain.lifecycle import OPEN_CASE_STATUSES
from gridline.i18n.phrases import Phrase
from gridline.kernel.messages import Option
from gridline.routing import resident_words
from gridline.routing.cases import already_reported, join_case
from gridline.storage import cases as case_store
from gridline.storage import outbox, reporters
from gridline.storage.models import Case


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
    who = told.name if told is not None else holder(step.work, case)
    if options:
        key = "case.followed_up_told_or_new" if told is not None else "case.detail_added_or_new"
    step.say(key, options, ref=case.ref, status=Phrase(f"case_status.{case.status}"), who=who)
