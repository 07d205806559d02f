"""The resident's answer to 「问题真的解决了吗？」 (``routing.closure``) — in words (「解决了」,
「没有解决」, 「谢谢」, the same problem again: 「还是没水」) or by a choice — and what a late answer
is told when the case no longer waits for one."""

from __future__ import annotations

from gridline.core.conversation.step import Step
from gridline.domain.lifecycle import CaseStatus
from gridline.nlu.solved_words import still_wrong
from gridline.routing import closure
from gridline.routing.directory import Directory
from gridline.storage.models import Case

# What a resident's words say about "is it solved?" when the model reads them as one of these.
ANSWER_INTENTS = ("affirm", "deny", "thanks")


def answered_in_words(step: Step, plain: bool | None) -> bool:
    """Whether these words answer an open 「解决了吗？」 of theirs — a plain 解决了 / 没解决
    (``plain``, whatever the model makes of it: it reads a bare 解决了 as check_status), a yes, no or
    thank-you, or the same problem again — and, if so, answer it with their words for the level above."""
    nlu = step.turn.nlu
    assert nlu is not None
    intent = nlu.intent
    still = plain is None and still_wrong(step.text)
    if plain is None and intent not in ANSWER_INTENTS and not nlu.is_issue and not still:
        return False
    pending = closure.awaiting_confirmation(step.work, step.resident.id or 0)
    if pending is None:
        return False
    if plain is None and intent in ANSWER_INTENTS:
        plain = intent != "deny"  # a thank-you for a fixed problem is a yes
    elif plain is None and intent == pending.category:
        plain = False  # 「还是没水」
    elif still and not (nlu.is_issue and nlu.confidence >= step.services.settings.nlu.confidence_threshold):
        plain = False  # 「灯还是不亮啊」: the model may read another category, but it is still broken
    if plain is None:
        return False
    solved_answer(step, pending, plain, step.text)
    return True


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
