"""The visit lifecycle of 走千家: ``due → done | missed | cancelled``, ``missed → escalated | done |
cancelled``, ``escalated → escalated | done | cancelled`` (``VISIT``), and its one writer ``transition``,
which also records the visit's event (docs/visits.md)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from gridline.domain.lifecycle import Lifecycle
from gridline.kernel.work import Work
from gridline.storage import visits as store
from gridline.storage.households import RosterScope
from gridline.storage.models import Visit

EVERYONE = RosterScope(None)  # the roster store's scope for time-driven work: every grid


class VisitStatus(StrEnum):
    DUE = "due"  # owed, its deadline not yet passed
    MISSED = "missed"  # the deadline passed without a visit: the one who owes it is told
    ESCALATED = "escalated"  # still not visited: the leader, then the level-2 contact, were told
    DONE = "done"  # logged (ok or a problem found)
    CANCELLED = "cancelled"  # the household left the roster


OPEN_VISIT_STATUSES = frozenset({VisitStatus.DUE, VisitStatus.MISSED, VisitStatus.ESCALATED})

VISIT_TRANSITIONS: dict[VisitStatus, frozenset[VisitStatus]] = {
    VisitStatus.DUE: frozenset({VisitStatus.MISSED, VisitStatus.DONE, VisitStatus.CANCELLED}),
    VisitStatus.MISSED: frozenset({VisitStatus.ESCALATED, VisitStatus.DONE, VisitStatus.CANCELLED}),
    # ESCALATED → ESCALATED: a further step (level 2 after the leader).
    VisitStatus.ESCALATED: frozenset({VisitStatus.ESCALATED, VisitStatus.DONE, VisitStatus.CANCELLED}),
    VisitStatus.DONE: frozenset(),
    VisitStatus.CANCELLED: frozenset(),
}

_STAMPS = {
    VisitStatus.MISSED: "missed_at",
    VisitStatus.ESCALATED: "escalated_at",
    VisitStatus.DONE: "done_at",
}


VISIT: Lifecycle[VisitStatus] = Lifecycle("visit", VisitStatus, VISIT_TRANSITIONS, stamps=_STAMPS)


def check_visit_transition(current: str, wanted: str) -> VisitStatus:
    return VISIT.check(current, wanted)


def transition(
    work: Work, visit: Visit, wanted: VisitStatus, *, actor: str = "system", data: dict[str, Any] | None = None
) -> Visit:
    """The one way a visit changes status: checked against the table (staying put is refused too,
    except a further escalation), written and stamped by ``VISIT.move``, and recorded."""
    new = VISIT.check(visit.status, wanted)
    VISIT.move(visit, new, work.now)
    if new == VisitStatus.ESCALATED:
        visit.escalated_at = work.now  # the latest step, not only the first
    if new not in OPEN_VISIT_STATUSES:
        visit.next_at = None
    store.add_event(work.session, visit.id or 0, at=work.now, kind=new.value, actor=actor, data=data or {})
    return visit
