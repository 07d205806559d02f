"""The lifecycles of cases and pages: allowed transitions in one place.

Anything not listed is refused with :class:`ForbiddenTransition`; tests cover the forbidden ones.
"""

from __future__ import annotations

from enum import StrEnum


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
    PageStatus.SCHEDULED: frozenset({PageStatus.SENDING, PageStatus.EXPIRED, PageStatus.FAILED}),
    PageStatus.SENDING: frozenset(
        {PageStatus.SENT, PageStatus.FAILED, PageStatus.SCHEDULED, PageStatus.EXPIRED, PageStatus.ACKNOWLEDGED}
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
        super().__init__(f"{kind} cannot go from {current!r} to {wanted!r}")
        self.kind = kind
        self.current = current
        self.wanted = wanted


def check_case_transition(current: str, wanted: str) -> CaseStatus:
    """Return ``wanted`` as a status if a case may move there from ``current``, else raise."""
    cur, new = CaseStatus(current), CaseStatus(wanted)
    if new not in CASE_TRANSITIONS[cur]:
        raise ForbiddenTransition("case", cur, new)
    return new


def check_page_transition(current: str, wanted: str) -> PageStatus:
    cur, new = PageStatus(current), PageStatus(wanted)
    if new not in PAGE_TRANSITIONS[cur]:
        raise ForbiddenTransition("page", cur, new)
    return new
