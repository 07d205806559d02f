"""The lifecycle of a check-in (平安守护) or a sweep's question: statuses, the table, ONE ``transition()``.

Nothing else writes ``CheckIn.status``: ``transition`` checks the table (``ForbiddenTransition``),
writes the status, stamps its time and records a ``CheckInEvent`` (and a case event when the
check-in has a case).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from gridline.domain.lifecycle import ForbiddenTransition
from gridline.kernel.work import Work
from gridline.routing.timeline import record_event
from gridline.storage import checkins as store
from gridline.storage.models import CheckIn


class CheckInStatus(StrEnum):
    SCHEDULED = "scheduled"  # a row with its ask step; nothing sent yet
    ASKED = "asked"  # the question went out, waiting for "1" / "2"
    RETRIED = "retried"  # one window passed in silence: asked again
    ESCALATED = "escalated"  # silence reached people: the helper, the on-duty leader, the family
    OK = "ok"  # "1 平安"
    HELP = "help"  # "2 需要帮助": a case is open
    MISSED = "missed"  # the whole chain passed in silence (sweeps: a visit is due today)
    CANCELLED = "cancelled"  # opted out or the household was removed before it was asked


OPEN_STATUSES = frozenset(
    {CheckInStatus.SCHEDULED, CheckInStatus.ASKED, CheckInStatus.RETRIED, CheckInStatus.ESCALATED}
)
# Statuses in which an answer is taken (a late "1" after a missed cycle is still good news).
ANSWERABLE = frozenset({CheckInStatus.ASKED, CheckInStatus.RETRIED, CheckInStatus.ESCALATED, CheckInStatus.MISSED})

TRANSITIONS: dict[CheckInStatus, frozenset[CheckInStatus]] = {
    # SCHEDULED → MISSED: nobody in the household can be asked on any channel.
    CheckInStatus.SCHEDULED: frozenset({CheckInStatus.ASKED, CheckInStatus.MISSED, CheckInStatus.CANCELLED}),
    CheckInStatus.ASKED: frozenset(
        {
            CheckInStatus.RETRIED,
            CheckInStatus.ESCALATED,
            CheckInStatus.OK,
            CheckInStatus.HELP,
            CheckInStatus.MISSED,
            CheckInStatus.CANCELLED,
        }
    ),
    CheckInStatus.RETRIED: frozenset(
        {CheckInStatus.ESCALATED, CheckInStatus.OK, CheckInStatus.HELP, CheckInStatus.MISSED, CheckInStatus.CANCELLED}
    ),
    CheckInStatus.ESCALATED: frozenset(
        {CheckInStatus.OK, CheckInStatus.HELP, CheckInStatus.MISSED, CheckInStatus.CANCELLED}
    ),
    CheckInStatus.MISSED: frozenset({CheckInStatus.OK, CheckInStatus.HELP}),
    CheckInStatus.OK: frozenset(),
    CheckInStatus.HELP: frozenset(),
    CheckInStatus.CANCELLED: frozenset(),
}

# The time each status stamps (a status not listed stamps only ``updated_at``).
STAMPS: dict[CheckInStatus, str] = {
    CheckInStatus.ASKED: "asked_at",
    CheckInStatus.RETRIED: "silent_at",
    CheckInStatus.OK: "answered_at",
    CheckInStatus.HELP: "answered_at",
    CheckInStatus.MISSED: "closed_at",
    CheckInStatus.CANCELLED: "closed_at",
}


def check_transition(current: str, wanted: str) -> CheckInStatus:
    cur, new = CheckInStatus(current), CheckInStatus(wanted)
    if new not in TRANSITIONS[cur]:
        raise ForbiddenTransition("checkin", cur, new)
    return new


def transition(
    work: Work, checkin: CheckIn, wanted: CheckInStatus, *, actor: str = "system", data: dict[str, Any] | None = None
) -> None:
    """Move ``checkin`` to ``wanted`` (or raise ``ForbiddenTransition``), stamp it, record the event."""
    previous = checkin.status
    new = check_transition(previous, wanted)
    checkin.status = new.value
    stamp = STAMPS.get(new)
    if stamp is not None and getattr(checkin, stamp) is None:
        setattr(checkin, stamp, work.now)
    if new is CheckInStatus.ESCALATED and checkin.silent_at is None:
        checkin.silent_at = work.now
    if new is CheckInStatus.MISSED and checkin.silent_at is None and previous != CheckInStatus.SCHEDULED.value:
        checkin.silent_at = work.now
    checkin.updated_at = work.now
    details = {"from": previous, "to": new.value, **(data or {})}
    store.add_event(work.session, checkin.id or 0, at=work.now, kind=new.value, actor=actor, data=details)
    if checkin.case_id is not None:
        record_event(work, checkin.case_id, f"checkin_{new.value}", actor, {"checkin_id": checkin.id, **details})
