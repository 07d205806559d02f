"""Closure the resident confirms (办结由居民确认).

"Resolved" is the holder's word; the case is only solved when the resident says so. After the
holder resolves, the resident is asked "解决了吗？" — yes leads to the rating; no reopens the case
one level up: the level-2 contact of the grid is paged at once with the resident's words, and the
policy carries on from the step after theirs if nobody acknowledges.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlmodel import Session

from gridline.clock import as_utc
from gridline.domain.lifecycle import CaseStatus
from gridline.i18n.phrases import Phrase
from gridline.kernel.messages import Option
from gridline.kernel.outbox import reporter_of, tell_reporters, tell_resident
from gridline.kernel.work import Work
from gridline.routing.escalation import page_targets, restart_escalation
from gridline.routing.grids import GridIndex
from gridline.routing.targets import Target, resolve_targets
from gridline.routing.timeline import publish_case, record_event, transition
from gridline.storage import case_events, cases, reporters
from gridline.storage.models import Case, FollowUp, Page

REOPENED = "reopened_by_resident"
LEVEL_UP = ("level2_contact", "level1_contact", "supervisors")


def _solved_options(case: Case) -> tuple[Option, ...]:
    return (
        Option(Phrase("case.solved_yes"), f"solved:{case.ref}:yes"),
        Option(Phrase("case.solved_no"), f"solved:{case.ref}:no"),
    )


def ask_if_solved(work: Work, case: Case, name: str) -> bool:
    """"解决了吗？" to everyone who reported the problem (whoever of them answers first decides);
    False when there is nobody to ask (a case found on a visit)."""
    asked = tell_reporters(work, case, "case.resolved_ask", options=_solved_options(case), name=name,
                           ask_callers_by_phone=True)
    return bool(asked)


def ask_rating(work: Work, case: Case, resident_id: int | None = None) -> None:
    """The rating question to the reporter who said it is solved (by default the one who opened it)."""
    options = tuple(Option(Phrase(f"case.rate_option.{n}"), f"rate:{case.ref}:{n}") for n in range(1, 6))
    tell_resident(work, case, "case.rate_ask", options=options, reporter=reporter_of(work, case, resident_id))


def confirmed_solved(work: Work, case: Case, actor: str, resident_id: int | None = None) -> bool:
    """A reporter (``resident_id``; by default the one who opened it) says it is solved: that is
    what the 解决率 counts; the rating question follows, to them."""
    if case.status != CaseStatus.RESOLVED:
        return False
    since = as_utc(case.resolved_at) if case.resolved_at else work.now
    first = all(e.kind != "resident_confirmed" for e in case_events.events_since(work.session, case.id or 0, since))
    record_event(work, case.id or 0, "resident_confirmed", actor, {})
    publish_case(work, case)
    ask_rating(work, case, resident_id)
    if first:
        # The others who reported it were asked 解决了吗？ too: the first yes decides, so they hear it.
        said_by = resident_id if resident_id is not None else case.resident_id
        _tell_the_others(work, case, said_by, "case.confirmed_by_other")
    return True


def _tell_the_others(work: Work, case: Case, said_by: int | None, key: str, **params: Any) -> None:
    """``key`` to everyone who reported ``case`` but ``said_by`` (who answered 解决了吗？ for them all)."""
    for other in reporters.of_case(work.session, case):
        if other.resident_id != said_by:
            tell_resident(work, case, key, reporter=other, **params)


def not_solved(
    work: Work, index: GridIndex, tz: str, case: Case, actor: str, words: str | None = None,
    resident_id: int | None = None,
) -> list[str]:
    """A reporter (``resident_id``; by default the one who opened it) says it is not solved: reopen
    one level up, and tell them so. Returns the names of those paged."""
    if case.status != CaseStatus.RESOLVED:
        return []
    previous_holder = case.resolved_by
    event = transition(work, case, CaseStatus.PAGED, kind=REOPENED, actor=actor, data={"words": (words or "")[:500]})
    # Reopened: whoever takes it now acknowledges and resolves it afresh.
    case.resolved_at = case.resolved_by = case.acknowledged_by = case.acknowledged_at = None
    case.assignee_staff_id = None
    steps = [step.get("notify", []) for step in case.policy.get("steps", [])]
    # The first level up that has someone to page: level 2, else level 1, else the supervisors.
    chosen: str | None = None
    found: list[Target] = []
    for target in LEVEL_UP:
        found = resolve_targets(work.session, index, case, target, work.now, tz)
        if found:
            chosen = target
            break
    # If they don't acknowledge either, the policy goes on from the step after theirs.
    theirs = next((i for i, notify in enumerate(steps) if chosen in notify), 0)
    round_ = restart_escalation(work, case, "reopened by the resident", from_step=theirs + 1, delay_minutes=_wait(case))
    reopened = [Target(t.staff, REOPENED, t.explanation) for t in found if t.staff.id != previous_holder]
    done = page_targets(work, case, reopened, step_index=theirs, round_=round_)
    paged = [str(entry["name"]) for entry in done if entry.get("page_id")]
    event.data = {**event.data, "paged": paged, "level": chosen}
    said_so = reporter_of(work, case, resident_id)
    tell_resident(work, case, "case.reopened", name=paged or "—", reporter=said_so)
    # The others who reported it were asked 解决了吗？ too: their answer is moot now, and they follow the case.
    _tell_the_others(work, case, said_so.resident_id if said_so is not None else case.resident_id,
                     "case.reopened_by_other", name=paged or "—")
    publish_case(work, case)
    return paged


def awaiting_confirmation(work: Work, resident_id: int) -> Case | None:
    """The latest resolved case the resident reported (opened or joined) that they have not yet
    said is solved since it was resolved."""
    with work.session.no_autoflush:  # asked in the middle of a turn whose rows are not complete yet
        return _awaiting(work, resident_id)


def _awaiting(work: Work, resident_id: int) -> Case | None:
    return reporters.latest_resolved_without(work.session, resident_id, status=CaseStatus.RESOLVED.value,
                                            kind="resident_confirmed", actor=f"resident:{resident_id}")


def reopen_words(session: Session, case: Case, page: Page) -> str | None:
    """What the resident said when they reopened the case (for the page to the level above)."""
    if page.reason != REOPENED:
        return None
    event = case_events.latest_event(session, case.id or 0, REOPENED)
    return str(event.data.get("words") or "") if event else None


def sweep(work: Work, wait_hours: float, limit: int = 500) -> int:
    """Residents who have not answered "解决了吗？": one reminder, then a 回访 task. Returns how many moved.

    Run by the reconciler; the case events are the truth, so running it twice does nothing twice.
    """
    wait = timedelta(hours=wait_hours)
    waiting = cases.resolved_before(work.session, work.now - wait, status=CaseStatus.RESOLVED.value, limit=limit)
    moved = 0
    for case in waiting:
        since = as_utc(case.resolved_at) if case.resolved_at else work.now
        kinds = {event.kind: as_utc(event.at) for event in case_events.events_since(work.session, case.id or 0, since)}
        if "resident_confirmed" in kinds or REOPENED in kinds or "follow_up_created" in kinds:
            continue
        reminded = kinds.get("confirmation_reminded")
        if reminded is None:
            _remind(work, case)
            record_event(work, case.id or 0, "confirmation_reminded", "system", {})
            moved += 1
        elif reminded <= work.now - wait:
            open_follow_up(work, case, "no_answer")
            moved += 1
    return moved


def _remind(work: Work, case: Case) -> None:
    tell_reporters(work, case, "case.resolved_reminder", options=_solved_options(case))


def open_follow_up(work: Work, case: Case, reason: str) -> FollowUp:
    """A 回访 task for a supervisor who did not handle the case."""
    handled = sorted({sid for sid in (case.acknowledged_by, case.resolved_by, case.assignee_staff_id) if sid})
    task = FollowUp(case_id=case.id or 0, reason=reason, created_at=work.now, handled_by=handled)
    work.session.add(task)
    work.session.flush()
    record_event(work, case.id or 0, "follow_up_created", "system", {"reason": reason, "follow_up_id": task.id})
    publish_case(work, case)
    return task


def _wait(case: Case) -> float:
    steps = case.policy.get("steps", [])
    return float(steps[0].get("wait_minutes", 5)) if steps else 5.0
