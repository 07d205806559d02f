"""催办 and 督办: chasing a case towards its deadline, then taking it up the levels when it is late.

A case someone has acknowledged is theirs to resolve by ``resolve_due_at`` (``routing.deadlines``).

- 催办 (a reminder) to the holder ``deadlines.remind_before_hours`` before the deadline (but not
  before half the time limit has gone), and again when it passes;
- 督办 when it is overdue: the level-2 contact of the grid is paged with the case's history, and
  ``deadlines.level1_after_hours`` later, if it is still open, the level-1 contact.

Each step is a case event, and the reconciler's sweep reads them, so a step happens once however
many workers run it and whenever they were down.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session

from gridline.clock import as_utc
from gridline.domain.explanations import Reason, why
from gridline.domain.lifecycle import CaseStatus
from gridline.kernel.work import Work
from gridline.routing.escalation import page_targets
from gridline.routing.grids import GridIndex
from gridline.routing.targets import Target, resolve_targets
from gridline.routing.timeline import publish_case, record_event
from gridline.settings import Settings
from gridline.storage import case_events, cases
from gridline.storage.models import Case, Page, Staff

REMINDER = "deadline_reminder"  # 催办 before the deadline
DUE = "deadline_due"  # 催办 at the deadline
OVERDUE = "overdue"  # 督办, one level up
CHASE_REASONS = frozenset({REMINDER, DUE, OVERDUE})
CHASED = frozenset({CaseStatus.ACKNOWLEDGED.value})


def sweep(work: Work, index: GridIndex, settings: Settings, limit: int = 500) -> int:
    """Remind, and take overdue cases up a level; returns how many steps were taken."""
    remind_before = timedelta(hours=settings.deadlines.remind_before_hours)
    due = cases.due_by(work.session, work.now + remind_before, statuses=CHASED, limit=limit)
    taken = 0
    for case in due:
        taken += _chase(work, index, settings, case)
    return taken


def _chase(work: Work, index: GridIndex, settings: Settings, case: Case) -> int:
    assert case.resolve_due_at is not None
    due = as_utc(case.resolve_due_at)
    # An approved extension (延期) moved the deadline: chasing starts over from it.
    moved = case_events.latest_event(work.session, case.id or 0, "extension_approved")
    since = as_utc(moved.at) if moved is not None else None
    done = _steps_taken(work.session, case.id or 0, since)
    due_local = due.astimezone(ZoneInfo(settings.timezone)).strftime("%Y-%m-%d %H:%M")
    # The holder: whoever has it now (a department that accepted its transfer), else who acknowledged it.
    holder_id = case.assignee_staff_id or case.acknowledged_by
    holder = work.session.get(Staff, holder_id) if holder_id else None
    if work.now < due:
        # Never earlier than halfway through the limit: a 4-hour emergency is not chased at once.
        opened = since or as_utc(case.created_at)
        before = timedelta(hours=settings.deadlines.remind_before_hours)
        remind_at = max(due - before, opened + (due - opened) / 2)
        if REMINDER in done or holder is None or work.now < remind_at:
            return 0
        _page(work, case, [holder], REMINDER, due_local, level=0)
        return 1
    taken = 0
    if DUE not in done and holder is not None:
        _page(work, case, [holder], DUE, due_local, level=0)
        taken += 1
    levels = done.get(OVERDUE, {})
    if 2 not in levels:
        people = _contacts(work, index, settings, case, "level2_contact")
        _page(work, case, people, OVERDUE, due_local, level=2)
        taken += 1
    elif 1 not in levels and work.now >= levels[2] + timedelta(hours=settings.deadlines.level1_after_hours):
        people = _contacts(work, index, settings, case, "level1_contact")
        _page(work, case, people, OVERDUE, due_local, level=1)
        taken += 1
    return taken


def _steps_taken(session: Session, case_id: int, since: datetime | None = None) -> dict[str, dict[int, datetime]]:
    """Chase events so far (since the deadline last moved): kind → {level: when}."""
    taken: dict[str, dict[int, datetime]] = {}
    for event in case_events.events_of_kinds(session, case_id, CHASE_REASONS):
        if since is not None and as_utc(event.at) < since:
            continue
        taken.setdefault(event.kind, {})[int(event.data.get("level", 0))] = as_utc(event.at)
    return taken


def _contacts(work: Work, index: GridIndex, settings: Settings, case: Case, target: str) -> list[Staff]:
    return [found.staff for found in resolve_targets(work.session, index, case, target, work.now, settings.timezone)]


def _page(work: Work, case: Case, people: list[Staff], reason: str, due_local: str, *, level: int) -> None:
    targets = [Target(person, reason, why(Reason.CHASED, kind=reason, level=level or 0)) for person in people]
    done = page_targets(work, case, targets, step_index=0, round_=0)
    paged = [str(entry["name"]) for entry in done if entry.get("page_id")]
    # Recorded even when nobody could be paged: the timeline says the case was due for it.
    record_event(work, case.id or 0, reason, "system", {"level": level, "due": due_local, "paged": paged})
    publish_case(work, case)


def chase_note(session: Session, case: Case, page: Page) -> str | None:
    """The deadline a chasing page is about (local time, as the sweep recorded it)."""
    if page.reason not in CHASE_REASONS:
        return None
    event = case_events.latest_event(session, case.id or 0, page.reason)
    return str(event.data.get("due", "")) if event else ""



