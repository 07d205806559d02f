"""Right after a report, what a resident writes is most often more about it — 「楼上是302的」,
「我家在三楼」 — not a second problem. Within ``cases.follow_up_minutes`` of their last words on an
open case, words that are no clear report of their own are added to that case; words the model
reads as another problem are added too when they are a fragment (short, saying nothing is wrong),
with one choice to report them apart (``split:`` in ``choices``), because a wrong second case pages
a leader for nothing while a wrong detail costs one tap. Words that are a report (saying what is
wrong, or longer than a fragment: 「楼上半夜还在弹钢琴」), an emergency, or words that name a place
are always a report of their own."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any, NamedTuple

from gridline.core.conversation.step import Step
from gridline.domain.case_events import CaseEventKind
from gridline.domain.lifecycle import OPEN_CASE_STATUSES
from gridline.nlu.priority import assess_priority
from gridline.storage import case_events as case_event_store
from gridline.storage import reporters
from gridline.storage.models import Case, CaseEvent

# Words that say something is wrong. A detail rarely has one; a report nearly always does.
PROBLEM_CUES = (
    "坏", "漏", "停", "断", "堵", "吵", "噪", "臭", "味", "脏", "乱", "塌", "裂", "火", "烟", "伤", "困", "骗",
    "没水", "没电", "没气", "没有水", "没有电", "不亮", "不通", "不动", "不热", "不能用", "积水", "垃圾",
    "违建", "占道", "打架", "危险", "摔",
    "broken", "leak", "not working", "doesn't work", "does not work", "noise", "noisy", "loud", "smell",
    "stink", "blocked", "clogged", "flood", "fire", "smoke", "stuck", "trash", "garbage", "rubbish",
    "danger", " off ", " out ", "no water", "no power",
)
FRAGMENT_CJK, FRAGMENT_WORDS = 8, 5
RECENT_CASES = 5  # a resident writing about more open cases than this within the window is rare


class Detail(NamedTuple):
    """The case the words are about, and the other problem the model reads in them (None: none)."""

    case: Case
    maybe: dict[str, Any] | None


def detail_of(step: Step, confident: bool) -> Detail | None:
    """The open case these words add to, when they came soon after the resident's last words on it."""
    nlu = step.turn.nlu
    if nlu is None or not any(c.isalnum() for c in step.text):
        return None
    if assess_priority(nlu).priority == "emergency":
        return None  # never held back as a detail
    if nlu.entity("address") or nlu.entity("compound"):
        return None  # another place: a report of its own (or the same case, found as a duplicate)
    if not a_fragment(step.text):
        return None  # 「小区门口的路灯坏了」, 「楼上半夜还在弹钢琴」: a report, of its own or the same again
    recent = recent_case(step)
    if recent is None:
        return None
    if not (confident and nlu.is_issue) or nlu.intent == recent.category:
        return Detail(recent, None)
    return Detail(recent, {"intent": nlu.intent, "confidence": round(nlu.confidence, 4)})


def a_fragment(text: str) -> bool:
    """Whether the words are a fragment of a report, not one: short (``FRAGMENT_CJK`` characters,
    ``FRAGMENT_WORDS`` words) and saying nothing is wrong. Of the held-out set's 224 reports, 3 are
    (two policy questions, one emergency); 「楼上是302的」 and 「我家在三楼」 are."""
    cjk = sum("\u4e00" <= c <= "\u9fff" for c in text)
    words = len(re.findall(r"[A-Za-z]+", text))
    return cjk <= FRAGMENT_CJK and words <= FRAGMENT_WORDS and not names_a_problem(text)


def names_a_problem(text: str) -> bool:
    """Whether the words say what is wrong (broken, leaking, noisy, …), as a report does — not a
    detail of one (「楼上是302的」, 「我家在三楼」, 「家里一直有人」)."""
    lowered = f" {text.lower()} "
    return any(cue in lowered for cue in PROBLEM_CUES)


# How a question ends, in words the model may not place: 「有人管吗？」, 「what's the status?」.
QUESTION_ENDS = ("?", "？", "吗", "呢", "么")


def a_question(text: str) -> bool:
    """Whether the words ask something (a question mark or 吗 / 呢 at the end) — right after a report,
    about it: answered with its status, never added to it as a detail."""
    return text.strip().rstrip("。.!！~～ ").endswith(QUESTION_ENDS)


def recent_case(step: Step) -> Case | None:
    """The open case these words are about, among those the resident wrote about within
    ``cases.follow_up_minutes``: the one whose category the model ranks highest in them, else the
    one they wrote about last (「the lamp is still off」 after reports of a lamp and of a leak)."""
    minutes = step.services.settings.cases.follow_up_minutes
    resident_id = step.resident.id
    if minutes <= 0 or resident_id is None:
        return None
    since = step.work.now - timedelta(minutes=minutes)
    recent = reporters.written_about_since(
        step.work.session, resident_id, statuses=OPEN_CASE_STATUSES, since=since, limit=RECENT_CASES
    )
    return ranked_first(step, recent) if recent else None


def ranked_first(step: Step, cases: list[Case]) -> Case:
    """Of ``cases`` (newest first), the one whose category the model ranks highest among its first
    three readings of the words, else the newest."""
    ranked = [s.name for s in step.turn.nlu.ranking] if step.turn.nlu is not None else []
    by_rank = sorted((ranked.index(c.category), n) for n, c in enumerate(cases) if c.category in ranked[:3])
    return cases[by_rank[0][1]] if by_rank else cases[0]


def detail_to_split(step: Step, case: Case, category: str) -> CaseEvent | None:
    """The resident's newest words added to ``case`` that the model read as ``category`` and that
    were not reported apart already (the choice stays good after they wrote more)."""
    events = case_event_store.events_of_kinds(
        step.work.session, case.id or 0, [CaseEventKind.REPORTED_AGAIN.value, CaseEventKind.SPLIT_OFF.value]
    )
    split = {e.data.get("event_id") for e in events if e.kind == CaseEventKind.SPLIT_OFF}
    candidates = [
        e for e in events
        if e.kind == CaseEventKind.REPORTED_AGAIN and e.data.get("resident_id") == step.resident.id
        and (e.data.get("maybe") or {}).get("intent") == category and e.id not in split
    ]  # fmt: skip
    return max(candidates, key=lambda e: (e.at, e.id or 0)) if candidates else None
