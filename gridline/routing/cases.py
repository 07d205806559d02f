"""Opening cases: reference codes, duplicates, priority, the policy snapshot and the first step."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlmodel import Session

from gridline.domain.case_events import CaseEventKind
from gridline.domain.lifecycle import OPEN_CASE_STATUSES, CaseStatus
from gridline.kernel.work import Work
from gridline.routing.case_places import same_place
from gridline.routing.deadlines import resolve_deadline
from gridline.routing.directory import Directory
from gridline.routing.escalation import run_first_step_now, schedule_step
from gridline.routing.policy import TRIAGE_POLICY, policy_for
from gridline.routing.timeline import publish_case, record_event
from gridline.settings import Settings
from gridline.storage import case_events, cases
from gridline.storage.models import Case

# No 0/O, 1/I/L: references are read out over the phone.
REF_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def new_ref() -> str:
    """A reference code; whether a case has it already is for the INSERT to say (``storage.cases.insert``)."""
    return "".join(secrets.choice(REF_ALPHABET) for _ in range(6))


@dataclass
class CaseDraft:
    """Everything decided about a report before it becomes a case, with the reasons."""

    category: str
    priority: str
    grid_code: str | None
    summary: str
    channel: str
    resident_id: int | None
    address_text: str | None = None
    lat: float | None = None
    lon: float | None = None
    nlu_confidence: float | None = None
    explanation: list[dict[str, Any]] = field(default_factory=list)
    # Minutes before the first page (a resident still choosing a category); 0 = page now.
    start_delay_minutes: float = 0


def find_duplicate(session: Session, settings: Settings, draft: CaseDraft, now: Any) -> Case | None:
    """An open case in the window with the same grid + category at the same place
    (``routing.case_places``: 3号楼's leak is not 5号楼's bare wire), or the same address."""
    since = now - timedelta(minutes=settings.cases.duplicate_window_minutes)
    statuses = [s.value for s in OPEN_CASE_STATUSES]
    in_grid = draft.grid_code if draft.grid_code is not None and draft.category not in ("other",) else None
    if in_grid is not None or draft.address_text:
        # One query for both: the newest in the grid, else the newest at the address.
        return cases.newest_open_duplicate(
            session, statuses=statuses, since=since, category=draft.category, grid_code=in_grid,
            address_text=draft.address_text or None,
            at=lambda other: other == draft.address_text or same_place(draft.category, draft.address_text, other),
        )
    if draft.grid_code is None and draft.resident_id is not None:
        return _over_triage_cap(session, settings, statuses, since, draft.resident_id)
    return None


def _over_triage_cap(
    session: Session, settings: Settings, statuses: list[str], since: Any, resident_id: int
) -> Case | None:
    """A sender we cannot place (no grid, no address) with open triage cases up to the cap already:
    the latest of them, so repeats are merged instead of paging the supervisors once per message."""
    open_triage = cases.originals_without_grid(session, resident_id=resident_id, statuses=statuses, since=since)
    return open_triage[0] if len(open_triage) >= settings.cases.max_open_triage_cases_per_sender else None


def open_case(work: Work, settings: Settings, draft: CaseDraft, directory: Directory | None = None) -> Case:
    """Store a new case, snapshot its policy and schedule its first escalation step. With the
    process's ``directory``, a first step due now runs in this unit of work (its pages are written
    here: ``routing.escalation.run_first_step_now``) instead of a job of its own."""
    triage = draft.grid_code is None
    policy = TRIAGE_POLICY if triage else policy_for(settings, draft.priority, draft.category)
    ack_minutes = settings.cases.ack_sla_minutes.get(draft.priority, 60)
    case = cases.insert(work.session, dict(
        resident_id=draft.resident_id,
        grid_code=draft.grid_code,
        category=draft.category,
        priority=draft.priority,
        status=CaseStatus.NEW.value,
        channel=draft.channel,
        summary=draft.summary[:2000],
        address_text=draft.address_text,
        lat=draft.lat,
        lon=draft.lon,
        nlu_confidence=draft.nlu_confidence,
        explanation=list(draft.explanation),
        policy=policy.snapshot(),
        created_at=work.now,
        updated_at=work.now,
        ack_due_at=work.now + timedelta(minutes=ack_minutes),
        resolve_due_at=resolve_deadline(settings, draft.category, draft.priority, work.now),
    ), new_ref)
    record_event(
        work,
        case.id or 0,
        "created",
        "system",
        {
            "category": case.category,
            "priority": case.priority,
            "grid": case.grid_code,
            "policy": policy.priority,
            "explanation": draft.explanation,
        },
    )
    publish_case(work, case, "case.created")
    if directory is not None and draft.start_delay_minutes <= 0:
        run_first_step_now(work, case, directory, settings.timezone)
    else:
        schedule_step(work, case, round_=0, step_index=0, delay_minutes=draft.start_delay_minutes)
    return case


def already_reported(session: Session, case: Case, resident_id: int | None) -> bool:
    """Whether ``resident_id`` has reported ``case`` already: opened it, or joined it since."""
    if resident_id is None:
        return False
    if case.resident_id == resident_id:
        return True
    joined = case_events.events_of_kinds(session, case.id or 0, [CaseEventKind.REPORTED_AGAIN.value])
    return any(event.data.get("resident_id") == resident_id for event in joined)


def join_case(
    work: Work, case: Case, *, resident_id: int | None, summary: str, channel: str | None = None,
    again: bool | None = None, maybe: dict[str, Any] | None = None,
) -> Case:
    """A report of the same problem, nobody paged again. A new reporter is counted on the case
    (「已有 2 人反映」) and hears its news from now on, on ``channel`` (the one they reported on:
    ``kernel.outbox.tell_reporters``); the same one again (a follow-up, 「电梯什么时候能修好？」) is
    logged, not counted. ``again``: :func:`already_reported`, when the caller asked it already.
    ``maybe``: the other problem the words may be (``{"intent", "confidence"}``), kept so that the
    resident can still report them apart (``core.conversation.details``)."""
    if again is None:
        again = already_reported(work.session, case, resident_id)
    if not again:
        case.report_count += 1
    case.updated_at = work.now
    record_event(
        work,
        case.id or 0,
        "reported_again",
        "system",
        {"resident_id": resident_id, "summary": summary[:500], "count": case.report_count, "channel": channel}
        | ({"maybe": maybe} if maybe else {}) | ({"again": True} if again else {}),
    )
    publish_case(work, case)
    return case
