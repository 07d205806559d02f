"""The lifecycles of cases, pages, escalation steps, outbound messages and inbound events: their
statuses and allowed transitions in one place.

Each is a :class:`Lifecycle`, and every status write goes through its :meth:`Lifecycle.move`
(called by the aggregate's one ``transition()``), or — for a claim that is a conditional UPDATE —
through a WHERE clause built from :meth:`Lifecycle.sources`. Anything not in a table is refused with
:class:`ForbiddenTransition`; ``tests/core/test_lifecycle.py`` tries every pair and reads the tree
for status writes around them.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any, Generic, TypeVar


class CaseStatus(StrEnum):
    NEW = "new"  # stored, nobody notified yet
    TRIAGE = "triage"  # no grid or nobody on duty: supervisors sort it out
    PAGED = "paged"  # someone has been notified, nobody acknowledged
    ESCALATED = "escalated"  # the policy moved past its first step
    ACKNOWLEDGED = "acknowledged"  # a person has it
    RESOLVED = "resolved"  # the holder says fixed; the resident is asked whether it is (routing.closure)
    CLOSED = "closed"  # finished (after rating, by a supervisor, or merged into another)


OPEN_CASE_STATUSES = frozenset(
    {CaseStatus.NEW, CaseStatus.TRIAGE, CaseStatus.PAGED, CaseStatus.ESCALATED, CaseStatus.ACKNOWLEDGED}
)
UNACKNOWLEDGED_STATUSES = frozenset({CaseStatus.NEW, CaseStatus.TRIAGE, CaseStatus.PAGED, CaseStatus.ESCALATED})

CASE_TRANSITIONS: dict[CaseStatus, frozenset[CaseStatus]] = {
    CaseStatus.NEW: frozenset({CaseStatus.PAGED, CaseStatus.TRIAGE, CaseStatus.ACKNOWLEDGED, CaseStatus.CLOSED}),
    CaseStatus.TRIAGE: frozenset(
        {CaseStatus.PAGED, CaseStatus.ESCALATED, CaseStatus.ACKNOWLEDGED, CaseStatus.RESOLVED, CaseStatus.CLOSED}
    ),
    CaseStatus.PAGED: frozenset(
        {CaseStatus.ESCALATED, CaseStatus.ACKNOWLEDGED, CaseStatus.RESOLVED, CaseStatus.CLOSED, CaseStatus.TRIAGE}
    ),
    CaseStatus.ESCALATED: frozenset(
        {CaseStatus.ACKNOWLEDGED, CaseStatus.RESOLVED, CaseStatus.CLOSED, CaseStatus.PAGED}
    ),
    CaseStatus.ACKNOWLEDGED: frozenset(
        {CaseStatus.RESOLVED, CaseStatus.CLOSED, CaseStatus.ESCALATED, CaseStatus.PAGED}
    ),
    CaseStatus.RESOLVED: frozenset({CaseStatus.CLOSED, CaseStatus.PAGED}),  # PAGED = reopened
    CaseStatus.CLOSED: frozenset(),
}


class PageStatus(StrEnum):
    SCHEDULED = "scheduled"  # row written, not yet handed to the provider
    SENDING = "sending"  # claimed by a worker
    SENT = "sent"  # the provider accepted it
    DELIVERED = "delivered"  # the provider says it arrived (or a call was answered by a person)
    ACKNOWLEDGED = "acknowledged"  # this page's recipient acknowledged the case
    FAILED = "failed"  # could not be delivered on this channel (the next channel is tried)
    EXPIRED = "expired"  # the case was acknowledged by someone else, resolved or closed


OPEN_PAGE_STATUSES = frozenset({PageStatus.SCHEDULED, PageStatus.SENDING, PageStatus.SENT, PageStatus.DELIVERED})

PAGE_TRANSITIONS: dict[PageStatus, frozenset[PageStatus]] = {
    # SCHEDULED → ACKNOWLEDGED: its person took the case (another channel, the console) before it went out.
    PageStatus.SCHEDULED: frozenset(
        {PageStatus.SENDING, PageStatus.EXPIRED, PageStatus.FAILED, PageStatus.ACKNOWLEDGED}
    ),
    # SENDING → DELIVERED: the provider says at once that it arrived (a call a person answered).
    PageStatus.SENDING: frozenset(
        {PageStatus.SENT, PageStatus.DELIVERED, PageStatus.FAILED, PageStatus.SCHEDULED, PageStatus.EXPIRED,
         PageStatus.ACKNOWLEDGED}
    ),
    PageStatus.SENT: frozenset(
        {PageStatus.DELIVERED, PageStatus.ACKNOWLEDGED, PageStatus.FAILED, PageStatus.EXPIRED}
    ),
    PageStatus.DELIVERED: frozenset({PageStatus.ACKNOWLEDGED, PageStatus.EXPIRED, PageStatus.FAILED}),
    PageStatus.ACKNOWLEDGED: frozenset(),
    PageStatus.FAILED: frozenset(),
    PageStatus.EXPIRED: frozenset(),
}


class Priority(StrEnum):
    EMERGENCY = "emergency"
    URGENT = "urgent"
    NORMAL = "normal"


class StaffRole(StrEnum):
    LEADER = "leader"  # 网格长 of a base grid
    MEMBER = "member"  # 网格员, work-team member / volunteer
    LEVEL2_CONTACT = "level2_contact"  # 联系领导 of a level-2 grid
    LEVEL1_CONTACT = "level1_contact"  # responsible cadre of a level-1 grid
    SUPERVISOR = "supervisor"  # grid information platform staff
    DEPARTMENT = "department"  # 职能部门 staff for some categories


class ForbiddenTransition(ValueError):
    def __init__(self, kind: str, current: str, wanted: str) -> None:
        super().__init__(f"{kind} cannot go from {str(current)!r} to {str(wanted)!r}")
        self.kind = kind
        self.current = str(current)
        self.wanted = str(wanted)


class StepStatus(StrEnum):
    PENDING = "pending"  # due at ``due_at``, waiting for its job
    RUNNING = "running"  # claimed by a worker
    DONE = "done"  # its pages are written and the next step scheduled
    CANCELLED = "cancelled"  # the case was acknowledged, resolved or closed first


STEP_TRANSITIONS: dict[StepStatus, frozenset[StepStatus]] = {
    # PENDING → PENDING: moved earlier (上报 now); RUNNING → PENDING: its worker vanished (the lease ran out).
    StepStatus.PENDING: frozenset({StepStatus.PENDING, StepStatus.RUNNING, StepStatus.CANCELLED}),
    StepStatus.RUNNING: frozenset({StepStatus.DONE, StepStatus.CANCELLED, StepStatus.PENDING}),
    StepStatus.DONE: frozenset({StepStatus.PENDING}),  # 上报 re-runs a step that already ran
    StepStatus.CANCELLED: frozenset({StepStatus.PENDING}),  # … or one an acknowledgement cancelled
}


class MessageStatus(StrEnum):
    RECEIVED = "received"  # an inbound message (final: the conversation's record of what was said)
    QUEUED = "queued"  # an outbound message waiting for its delivery job (or its paced send time)
    SENDING = "sending"  # claimed by a worker
    SENT = "sent"  # the provider accepted it
    DELIVERED = "delivered"  # the provider says it arrived
    FAILED = "failed"  # could not be delivered (after its retries), or the provider said so
    CANCELLED = "cancelled"  # not sent: its broadcast was cancelled, or the resident opted out


MESSAGE_TRANSITIONS: dict[MessageStatus, frozenset[MessageStatus]] = {
    MessageStatus.RECEIVED: frozenset(),
    MessageStatus.QUEUED: frozenset({MessageStatus.SENDING, MessageStatus.CANCELLED, MessageStatus.FAILED}),
    # SENDING → QUEUED: a retry, or a claim whose worker vanished. A provider's status callback can
    # arrive before the send is recorded, hence SENDING → DELIVERED / FAILED.
    MessageStatus.SENDING: frozenset(
        {MessageStatus.SENT, MessageStatus.DELIVERED, MessageStatus.QUEUED, MessageStatus.FAILED,
         MessageStatus.CANCELLED}
    ),
    MessageStatus.SENT: frozenset({MessageStatus.SENT, MessageStatus.DELIVERED, MessageStatus.FAILED}),
    MessageStatus.DELIVERED: frozenset({MessageStatus.DELIVERED, MessageStatus.FAILED}),
    MessageStatus.FAILED: frozenset({MessageStatus.FAILED}),
    MessageStatus.CANCELLED: frozenset(),
}


class InboundStatus(StrEnum):
    RECEIVED = "received"  # stored before the webhook's 200; waiting for processing (or its retry)
    PROCESSING = "processing"  # claimed by a worker
    PROCESSED = "processed"  # the conversation handled it
    FAILED = "failed"  # processing kept failing (``max_attempts``)
    RESCUED = "rescued"  # kept failing: stored as a plain message for supervisors (``core.rescue``)


INBOUND_TRANSITIONS: dict[InboundStatus, frozenset[InboundStatus]] = {
    # RECEIVED → PROCESSED: the worker finished after its lease had lapsed (the work is done).
    InboundStatus.RECEIVED: frozenset({InboundStatus.PROCESSING, InboundStatus.PROCESSED}),
    InboundStatus.PROCESSING: frozenset(
        {InboundStatus.PROCESSED, InboundStatus.RECEIVED, InboundStatus.FAILED, InboundStatus.RESCUED}
    ),
    InboundStatus.PROCESSED: frozenset(),
    InboundStatus.FAILED: frozenset({InboundStatus.RESCUED}),
    InboundStatus.RESCUED: frozenset(),
}


S = TypeVar("S", bound=StrEnum)


class Lifecycle(Generic[S]):
    """One aggregate's statuses and transition table, and the one way to write its status."""

    def __init__(
        self,
        name: str,
        statuses: type[S],
        table: Mapping[S, frozenset[S]],
        stamps: Mapping[S, str] | None = None,
    ) -> None:
        missing = set(statuses) - set(table)
        if missing:
            raise ValueError(f"{name}: no transitions listed for {sorted(missing)}")
        self.name = name
        self.statuses = statuses
        self.table = table
        # status → the row's attribute that records when it was first reached (``acknowledged_at`` …)
        self.stamps = dict(stamps or {})

    def check(self, current: str, wanted: str) -> S:
        """Return ``wanted`` as a status if the aggregate may move there from ``current``, else raise."""
        cur, new = self.statuses(current), self.statuses(wanted)
        if new not in self.table[cur]:
            raise ForbiddenTransition(self.name, cur, new)
        return new

    def allows(self, current: str, wanted: str) -> bool:
        try:
            self.check(current, wanted)
        except (ForbiddenTransition, ValueError):
            return False
        return True

    def guard(self, current: S, wanted: S) -> str:
        """``current`` for the WHERE clause of a conditional UPDATE that moves rows to ``wanted``,
        after checking that the table allows it (a claim is a transition too)."""
        self.check(current, wanted)
        return self.statuses(current).value

    def sources(self, wanted: S) -> list[str]:
        """The statuses from which ``wanted`` may be reached: the WHERE clause of a conditional claim."""
        return sorted(status.value for status, targets in self.table.items() if wanted in targets)

    def move(self, row: Any, wanted: S, at: datetime) -> S:
        """Write ``wanted`` on ``row`` after checking the table; stamp the status's time (once) and
        ``updated_at`` when the row has one. Staying in a status is not a transition and is allowed."""
        new = self.statuses(wanted)
        if row.status != new.value:
            self.check(row.status, new)
            row.status = new.value
        stamp = self.stamps.get(new)
        if stamp is not None and getattr(row, stamp) is None:
            setattr(row, stamp, at)
        if hasattr(row, "updated_at"):
            row.updated_at = at
        return new


CASE = Lifecycle(
    "case",
    CaseStatus,
    CASE_TRANSITIONS,
    stamps={
        CaseStatus.ACKNOWLEDGED: "acknowledged_at",
        CaseStatus.RESOLVED: "resolved_at",
        CaseStatus.CLOSED: "closed_at",
    },
)
PAGE = Lifecycle(
    "page",
    PageStatus,
    PAGE_TRANSITIONS,
    stamps={
        PageStatus.SENT: "sent_at",
        PageStatus.DELIVERED: "delivered_at",
        PageStatus.ACKNOWLEDGED: "acknowledged_at",
        PageStatus.FAILED: "failed_at",
        PageStatus.EXPIRED: "expired_at",
    },
)
STEP = Lifecycle("escalation step", StepStatus, STEP_TRANSITIONS, stamps={StepStatus.DONE: "done_at"})
MESSAGE = Lifecycle("message", MessageStatus, MESSAGE_TRANSITIONS)
INBOUND = Lifecycle("inbound event", InboundStatus, INBOUND_TRANSITIONS)


def check_case_transition(current: str, wanted: str) -> CaseStatus:
    """Return ``wanted`` as a status if a case may move there from ``current``, else raise."""
    return CASE.check(current, wanted)


def check_page_transition(current: str, wanted: str) -> PageStatus:
    return PAGE.check(current, wanted)
