"""The lifecycles of the department loop: a transfer to a department (转办) and an extension of a
deadline (延期). Their ``transition()`` functions (``gridline.routing.transfers`` and
``gridline.routing.extensions``) refuse anything not listed with
:class:`~gridline.domain.lifecycle.ForbiddenTransition`.
"""

from __future__ import annotations

from enum import StrEnum


class TransferStatus(StrEnum):
    REQUESTED = "requested"  # sent to the department, nobody has accepted it yet
    ESCALATED = "escalated"  # not accepted in time: the department's others and the supervisors paged
    ACCEPTED = "accepted"  # 签收: the department has it, its deadline runs
    REPLIED = "replied"  # 回单: the department reported the result; the grid reviews it
    REJECTED = "rejected"  # the grid's review said no: back to the department
    APPROVED = "approved"  # the grid's review said yes: the case is resolved, the resident is asked
    RETURNED = "returned"  # 退单: the department sent it back to the grid, with a reason
    CANCELLED = "cancelled"  # the case was closed while the transfer was open


TRANSFER_TRANSITIONS: dict[TransferStatus, frozenset[TransferStatus]] = {
    TransferStatus.REQUESTED: frozenset(
        {TransferStatus.ACCEPTED, TransferStatus.RETURNED, TransferStatus.ESCALATED, TransferStatus.CANCELLED}
    ),
    TransferStatus.ESCALATED: frozenset({TransferStatus.ACCEPTED, TransferStatus.RETURNED, TransferStatus.CANCELLED}),
    TransferStatus.ACCEPTED: frozenset({TransferStatus.REPLIED, TransferStatus.RETURNED, TransferStatus.CANCELLED}),
    TransferStatus.REPLIED: frozenset({TransferStatus.APPROVED, TransferStatus.REJECTED, TransferStatus.CANCELLED}),
    TransferStatus.REJECTED: frozenset({TransferStatus.REPLIED, TransferStatus.RETURNED, TransferStatus.CANCELLED}),
    TransferStatus.APPROVED: frozenset(),
    TransferStatus.RETURNED: frozenset(),
    TransferStatus.CANCELLED: frozenset(),
}
OPEN_TRANSFER_STATUSES = frozenset(s for s, moves in TRANSFER_TRANSITIONS.items() if moves)


class ExtensionStatus(StrEnum):
    REQUESTED = "requested"  # waiting for the level above
    APPROVED = "approved"  # the deadline moved
    REFUSED = "refused"  # the deadline stays


EXTENSION_TRANSITIONS: dict[ExtensionStatus, frozenset[ExtensionStatus]] = {
    ExtensionStatus.REQUESTED: frozenset({ExtensionStatus.APPROVED, ExtensionStatus.REFUSED}),
    ExtensionStatus.APPROVED: frozenset(),
    ExtensionStatus.REFUSED: frozenset(),
}

# Page reasons of the loop: what a page is about decides its text and its buttons.
TO_DEPARTMENT = "transfer"  # a new transfer, to the department's first contact
TRANSFER_ESCALATED = "transfer_escalated"  # nobody accepted in time: the department's others, the supervisors
TO_REVIEW = "transfer_replied"  # the department replied: the grid reviews
RETURNED = "transfer_returned"  # the department sent it back: the grid's leader, with the reason
REJECTED = "transfer_rejected"  # the review said no: back to the department holder
DEPARTMENT_PAGES = frozenset({TO_DEPARTMENT, TRANSFER_ESCALATED, REJECTED})
GRID_PAGES = frozenset({TO_REVIEW, RETURNED})
TRANSFER_PAGES = DEPARTMENT_PAGES | GRID_PAGES
EXTENSION_TO_DECIDE = "extension_requested"  # the page to the level above
EXTENSION_DECIDED = "extension_decided"  # the page back to the holder
EXTENSION_PAGES = frozenset({EXTENSION_TO_DECIDE, EXTENSION_DECIDED})
