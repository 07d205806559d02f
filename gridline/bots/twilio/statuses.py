"""Twilio's delivery statuses, in order, so that a late callback never overwrites a newer one.

Messages: Twilio's status callbacks carry no sequence number, but a message's statuses only ever
move forward (queued → sending → sent → delivered / undelivered / failed → read), so the rank of the
status *is* the sequence: a ``sent`` arriving after ``delivered`` has a lower rank and is ignored.

Calls: call status callbacks carry ``SequenceNumber`` (0, 1, 2, ... in the order Twilio made the
events), which is used as is; without it the rank of the call status is used the same way.

A page by phone counts as delivered only when a person answered: busy, no answer, failure, and
calls answered by an answering machine (``AnsweredBy`` ``machine_*`` / ``fax``) are failures.
"""

from __future__ import annotations

from dataclasses import dataclass

from gridline.edge.text import ascii_int

MESSAGE_RANK = {
    "accepted": 0,
    "scheduled": 0,
    "queued": 0,
    "sending": 1,
    "sent": 2,
    "delivered": 3,
    "undelivered": 3,
    "failed": 3,
    "read": 4,
}
CALL_RANK = {
    "queued": 0,
    "initiated": 1,
    "ringing": 2,
    "in-progress": 3,
    "completed": 4,
    "busy": 4,
    "no-answer": 4,
    "failed": 4,
    "canceled": 4,
}
CALL_FAILURES = frozenset({"busy", "no-answer", "failed", "canceled"})
# A verdict of machine detection is final for the page: nothing later about the call changes it.
MACHINE_VERDICT_SEQ = 1_000_000


@dataclass(frozen=True)
class StatusUpdate:
    """One status in Gridline's words: sent / delivered / failed (+ the raw Twilio status)."""

    sid: str
    status: str  # what the core is told: queued, sent, delivered, failed, undelivered
    seq: int
    error: str | None = None
    raw: str = ""


def is_machine(answered_by: str | None) -> bool:
    return bool(answered_by) and (answered_by.startswith("machine") or answered_by == "fax")  # type: ignore[union-attr]


def message_update(fields: dict[str, str]) -> StatusUpdate | None:
    """A message status callback as an update, or None if it is not one."""
    sid = fields.get("MessageSid") or fields.get("SmsSid") or ""
    raw = (fields.get("MessageStatus") or fields.get("SmsStatus") or "").lower()
    if not sid or raw not in MESSAGE_RANK:
        return None
    error = None
    if raw in ("failed", "undelivered"):
        code = fields.get("ErrorCode") or "?"
        error = f"twilio {raw} (error {code})"
    status = "delivered" if raw == "read" else raw
    return StatusUpdate(sid=sid, status=status, seq=MESSAGE_RANK[raw], error=error, raw=raw)


def call_update(fields: dict[str, str]) -> StatusUpdate | None:
    """A call status callback as an update, or None if it is not one."""
    sid = fields.get("CallSid", "")
    raw = (fields.get("CallStatus") or "").lower()
    if not sid or raw not in CALL_RANK:
        return None
    # ASCII digits below the machine verdict's rank (an INTEGER column, and the verdict must win).
    seq = ascii_int(fields.get("SequenceNumber"), highest=MACHINE_VERDICT_SEQ - 1)
    if seq is None:
        seq = CALL_RANK[raw]
    answered_by = fields.get("AnsweredBy")
    if is_machine(answered_by):
        return StatusUpdate(sid, "failed", MACHINE_VERDICT_SEQ, f"call answered by {answered_by}", raw)
    if raw in CALL_FAILURES:
        return StatusUpdate(sid, "failed", seq, f"call {raw}", raw)
    if raw in ("in-progress", "completed"):
        return StatusUpdate(sid, "delivered", seq, None, raw)
    return StatusUpdate(sid, "sent", seq, None, raw)
