"""The kinds of entry on a case's timeline, and what each one carries.

Every case event is one of :class:`CaseEventKind`; ``routing.timeline.record_event`` refuses any
other. :data:`PAYLOADS` names the keys of each kind's ``data`` (what the renderer may use);
``gridline.i18n.case_events`` renders each kind, the same way for the console and the sandbox.
"""

from __future__ import annotations

from enum import StrEnum


class CaseEventKind(StrEnum):
    # Opening and routing
    CREATED = "created"
    REPORTED_AGAIN = "reported_again"
    RECATEGORISED = "recategorised"
    REROUTED = "rerouted"
    MERGED_IN = "merged_in"
    MEDIA = "media"
    SPLIT_OFF = "split_off"  # words added as a detail were another problem: a case of their own
    FILED_TOGETHER = "filed_together"  # one message named several problems: a case each
    # Paging and escalation
    PAGED = "paged"
    ESCALATED = "escalated"
    ESCALATION_EXHAUSTED = "escalation_exhausted"
    # Staff actions
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    ESCALATED_BY_STAFF = "escalated_by_staff"
    REASSIGNED = "reassigned"
    STAFF_REPLY = "staff_reply"
    NOTE = "note"
    EVIDENCE = "evidence"
    CLOSED = "closed"
    # Deadlines: 催办 before and at the limit, 督办 after it
    DEADLINE_REMINDER = "deadline_reminder"
    DEADLINE_DUE = "deadline_due"
    OVERDUE = "overdue"
    # Closure the resident confirms, and 回访
    RESIDENT_CONFIRMED = "resident_confirmed"
    REOPENED_BY_RESIDENT = "reopened_by_resident"
    WITHDRAWN_BY_RESIDENT = "withdrawn_by_resident"  # the problem went away before anyone solved it
    CONFIRMATION_REMINDED = "confirmation_reminded"
    RATED = "rated"
    FOLLOW_UP_CREATED = "follow_up_created"
    FOLLOW_UP_CALLED = "follow_up_called"
    FOLLOW_UP_CALL = "follow_up_call"  # the 回访 call by phone changed status (routing.followup_calls)
    # The department loop (transfer → accept → reply → review, or return)
    TRANSFER_REQUESTED = "transfer_requested"
    TRANSFER_ESCALATED = "transfer_escalated"
    TRANSFER_ACCEPTED = "transfer_accepted"
    TRANSFER_REPLIED = "transfer_replied"
    TRANSFER_REJECTED = "transfer_rejected"
    TRANSFER_APPROVED = "transfer_approved"
    TRANSFER_RETURNED = "transfer_returned"
    TRANSFER_CANCELLED = "transfer_cancelled"
    TRANSFER_REVIEW_PAGED = "transfer_review_paged"
    TRANSFER_RETURN_PAGED = "transfer_return_paged"
    TRANSFER_REWORK_PAGED = "transfer_rework_paged"
    # Extensions (延期)
    EXTENSION_REQUESTED = "extension_requested"
    EXTENSION_APPROVED = "extension_approved"
    EXTENSION_REFUSED = "extension_refused"


# kind → the keys its ``data`` may carry (all optional: old rows may lack newer keys).
PAYLOADS: dict[CaseEventKind, tuple[str, ...]] = {
    CaseEventKind.CREATED: ("category", "priority", "grid", "policy", "explanation"),
    CaseEventKind.REPORTED_AGAIN: ("count", "message_id", "maybe", "again"),
    CaseEventKind.RECATEGORISED: ("from", "to"),
    CaseEventKind.REROUTED: ("grid",),
    CaseEventKind.MERGED_IN: ("from",),
    CaseEventKind.MEDIA: ("media",),
    CaseEventKind.SPLIT_OFF: ("to", "event_id"),
    CaseEventKind.FILED_TOGETHER: ("with", "message_id", "text"),
    CaseEventKind.PAGED: ("round", "step", "notify", "people", "triage"),
    CaseEventKind.ESCALATED: ("round", "step", "notify", "people", "triage"),
    CaseEventKind.ESCALATION_EXHAUSTED: (),
    CaseEventKind.ACKNOWLEDGED: ("channel", "page_id", "name"),
    CaseEventKind.RESOLVED: ("channel", "name"),
    CaseEventKind.ESCALATED_BY_STAFF: ("name",),
    CaseEventKind.REASSIGNED: ("to", "name", "by"),
    CaseEventKind.STAFF_REPLY: ("text", "name"),
    CaseEventKind.NOTE: ("text",),
    CaseEventKind.EVIDENCE: ("evidence_id", "channel", "text", "sha256", "size"),
    CaseEventKind.CLOSED: ("reason",),
    CaseEventKind.DEADLINE_REMINDER: ("level", "due", "paged"),
    CaseEventKind.DEADLINE_DUE: ("level", "due", "paged"),
    CaseEventKind.OVERDUE: ("level", "due", "paged"),
    CaseEventKind.RESIDENT_CONFIRMED: ("by",),
    CaseEventKind.REOPENED_BY_RESIDENT: ("words", "paged", "level"),
    CaseEventKind.WITHDRAWN_BY_RESIDENT: ("words",),
    CaseEventKind.CONFIRMATION_REMINDED: (),
    CaseEventKind.RATED: ("rating",),
    CaseEventKind.FOLLOW_UP_CREATED: ("reason", "follow_up_id"),
    CaseEventKind.FOLLOW_UP_CALLED: ("outcome", "rating"),
    CaseEventKind.FOLLOW_UP_CALL: ("call_status", "placed_by", "digits", "outcome", "rating"),
    CaseEventKind.TRANSFER_REQUESTED: ("department", "transfer_id", "reason", "accept_due"),
    CaseEventKind.TRANSFER_ESCALATED: ("department", "transfer_id", "paged"),
    CaseEventKind.TRANSFER_ACCEPTED: ("name", "channel", "due", "transfer_id"),
    CaseEventKind.TRANSFER_REPLIED: ("name", "text", "transfer_id"),
    CaseEventKind.TRANSFER_REJECTED: ("name", "text", "transfer_id"),
    CaseEventKind.TRANSFER_APPROVED: ("name", "transfer_id"),
    CaseEventKind.TRANSFER_RETURNED: ("name", "reason", "text", "transfer_id"),
    CaseEventKind.TRANSFER_CANCELLED: ("transfer_id",),
    CaseEventKind.TRANSFER_REVIEW_PAGED: ("paged",),
    CaseEventKind.TRANSFER_RETURN_PAGED: ("paged",),
    CaseEventKind.TRANSFER_REWORK_PAGED: ("paged",),
    CaseEventKind.EXTENSION_REQUESTED: ("extension_id", "reason", "due"),
    CaseEventKind.EXTENSION_APPROVED: ("extension_id", "due"),
    CaseEventKind.EXTENSION_REFUSED: ("extension_id", "reason"),
}
