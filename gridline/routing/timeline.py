"""The case timeline and live updates: one way to record what happened and to tell the consoles."""

from __future__ import annotations

from typing import Any

from gridline.domain.case_events import CaseEventKind
from gridline.domain.lifecycle import CASE, CaseStatus
from gridline.kernel.work import Work
from gridline.storage import case_events
from gridline.storage.models import Case, CaseEvent


def record_event(
    work: Work,
    case_id: int | None,
    kind: CaseEventKind | str,
    actor: str = "system",
    data: dict[str, Any] | None = None,
) -> CaseEvent:
    """Add a timeline entry to the case; ``kind`` must be a :class:`CaseEventKind` (ValueError if not)."""
    typed = CaseEventKind(kind)  # an unknown kind is refused before anything is written
    return case_events.add_event(
        work.session, case_id or 0, at=work.now, kind=typed.value, actor=actor, data=data or {}
    )


def transition(
    work: Work,
    case: Case,
    to: CaseStatus,
    *,
    kind: CaseEventKind | str,
    actor: str = "system",
    data: dict[str, Any] | None = None,
) -> CaseEvent:
    """The one writer of a case's status: checks ``CASE``'s table (``ForbiddenTransition``), stamps
    the time (``acknowledged_at`` … once, ``updated_at`` always) and records ``kind`` on the timeline."""
    CASE.move(case, to, work.now)
    return record_event(work, case.id, kind, actor, data)


def publish_case(work: Work, case: Case, kind: str = "case.updated", *, status: str | None = None) -> None:
    """Tell live consoles (after the commit) that the case changed (``status``: as it was then, when
    the case's row already holds a later one)."""
    work.event(
        "cases",
        {
            "type": kind,
            "case_id": case.id,
            "ref": case.ref,
            "grid_code": case.grid_code,
            "status": status or case.status,
            "category": case.category,
            "priority": case.priority,
        },
    )
