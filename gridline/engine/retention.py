"""Retention: after ``console.retention_days`` the words people wrote are removed, the statistics stay.

``INVENTORY`` lists every place a copy of a resident's words, name, number or recording is kept; the
purge below clears each of them, and docs/operations.md prints the same list (a test keeps the two
in step). What stays: every row, every time, category, intent and confidence, page, acknowledgement
and rating — so the dashboard's figures do not change.

Cases that are still open keep their texts until they are closed: the people handling them need them.
Corrected NLU labels (``nlu_corrections``) are training data chosen by a supervisor and are kept.

Housekeeping rows that only grow are deleted here too: the per-chat pacing lanes of Telegram chats
idle longer than ``pacing.chat_lane_idle_hours`` (:func:`purge_idle_pacing_lanes`, an engine module).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from gridline.domain.lifecycle import OPEN_CASE_STATUSES
from gridline.kernel.services import Services
from gridline.kernel.work import Work
from gridline.storage import evidence as evidence_rows
from gridline.storage import households, pacing
from gridline.storage import retention as kept_rows
from gridline.storage.audit import record
from gridline.storage.blobs import BlobStore
from gridline.storage.db import Database

BATCH = 500

# (table.column, what is kept there, what the purge does). Read by tests/console/test_retention.py
# against docs/operations.md: a new copy of residents' data must be added here and there.
INVENTORY: tuple[tuple[str, str, str], ...] = (
    ("messages.text", "what residents and staff wrote, and our replies", "set to NULL"),
    ("messages.nlu", "the text and entity values inside the NLU result", "text and entity values removed"),
    ("messages.media", "photo and voicemail recording URLs", "emptied"),
    ("messages.text_params", "the facts our replies were worded from (names, addresses, a leader's words)",
     "set to NULL"),
    ("messages.options", "the labels of the choices offered (a visit's room number)", "labels removed"),
    ("cases.summary", "the report in the resident's words", "emptied"),
    ("cases.rating_comment", "the resident's comment on their rating", "set to NULL"),
    ("cases.address_text", "the address the resident gave", "set to NULL"),
    ("cases.explanation", "routing reasons quoting the matched address or the failure", "reasons removed"),
    ("case_events.data", "staff replies, supervisor and staff notes, repeated reports, media URLs",
     "text, summary, media and name fields removed"),
    ("inbound_events.payload", "raw provider payloads, processed or never processed", "replaced by a marker"),
    ("inbound_events.error", "processing errors (may quote what was sent)", "set to NULL"),
    ("channel_identities.display", "Telegram display names and handles", "set to NULL"),
    ("residents.name", "names of residents who never registered (taken from Telegram)", "set to NULL"),
    ("audit_log.detail", "search terms and filters of exports, notes", "q, filters and text removed"),
    ("evidence.note", "the note sent with an evidence photo", "set to NULL"),
    ("evidence blobs", "evidence photos (they may show people and homes), in the local folder or S3",
     "deleted when no kept row points at the same bytes; the row keeps time, case and channel"),
)
_EVENT_TEXT_KEYS = ("text", "summary", "media", "name")
_AUDIT_TEXT_KEYS = ("q", "filters", "text")


def _strip_nlu(nlu: dict[str, Any] | None) -> dict[str, Any] | None:
    if not nlu:
        return nlu
    kept = {k: v for k, v in nlu.items() if k != "text"}
    entities = kept.get("entities")
    if isinstance(entities, list):
        kept["entities"] = [
            {k: v for k, v in e.items() if k != "value"} for e in entities if isinstance(e, dict)
        ]
    return kept


async def purge_old_text(services: Services) -> int:
    """Remove texts older than the retention period; returns how many messages lost their text.

    Safe to run repeatedly (a job or ``gridline console purge-text``); does nothing when the
    retention period is 0. Runs in a database thread (its batches are blocking transactions).
    """
    days = services.settings.console.retention_days
    if days <= 0:
        return 0
    now = services.clock.now()
    purged = await services.db.run(purge_text_before, services.db, now - timedelta(days=days), now=now)
    from gridline.routing.evidence import store_of

    await services.db.run(purge_evidence_before, services.db, store_of(services), now - timedelta(days=days), now=now)
    return purged


def purge_evidence_before(db: Database, store: BlobStore, cutoff: datetime, *, now: datetime) -> int:
    """Evidence photos older than ``cutoff`` on cases no longer open: the rows are marked purged (note
    and hash gone) and committed, then the bytes no kept row shares are deleted from the store.
    Blocking (a database thread or the command line). Returns how many photos' bytes were deleted."""
    gone: set[str] = set()
    with db.session() as session:
        for row in evidence_rows.purgeable(session, cutoff, [s.value for s in OPEN_CASE_STATUSES], limit=10_000):
            if row.sha256:
                gone.add(row.sha256)
            evidence_rows.mark_purged(session, row, now)
        session.flush()
        unshared = sorted(sha for sha in gone if not evidence_rows.still_referenced(session, sha))
    for sha256 in unshared:  # after the commit: a row never points at deleted bytes
        store.delete(sha256)
    return len(unshared)


async def purge_removed_households(services: Services) -> int:
    """Delete households removed from the roster more than ``roster.retention_days`` ago."""
    cutoff = services.clock.now() - timedelta(days=services.settings.roster.retention_days)

    def purge() -> int:
        with services.db.session() as session:
            return households.purge_removed(session, cutoff)

    return await services.db.run(purge)


def purge_idle_pacing_lanes(work: Work, services: Services) -> int:
    """Delete the per-chat pacing lanes idle longer than ``pacing.chat_lane_idle_hours`` (one row per
    Telegram chat ever paced would otherwise grow for ever); a lane with a send time still ahead is
    kept. Returns how many were deleted (0 when the setting is 0 or less: keep them)."""
    hours = services.settings.pacing.chat_lane_idle_hours
    if hours <= 0:
        return 0
    return pacing.purge_idle_chat_lanes(work.session, work.now - timedelta(hours=hours))


def purge_text_before(db: Database, cutoff: datetime, *, now: datetime | None = None) -> int:
    """Remove the texts of everything older than ``cutoff`` (see the module docstring)."""
    now = now or cutoff
    open_statuses = [s.value for s in OPEN_CASE_STATUSES]
    purged = 0
    while True:
        with db.session() as session:
            batch = kept_rows.messages_with_text(session, before=cutoff, open_statuses=open_statuses, limit=BATCH)
            for message in batch:
                message.text = None
                message.nlu = _strip_nlu(message.nlu)
                message.media = []
                message.text_params = None
                message.options = [{"data": o.get("data", "")} for o in message.options or []]
                message.text_purged = True
                session.add(message)
            purged += len(batch)
        if len(batch) < BATCH:
            break

    with db.session() as session:
        cases = kept_rows.closed_cases_with_text(session, before=cutoff, open_statuses=open_statuses)
        for case in cases:
            case.summary = ""
            case.rating_comment = None
            case.address_text = None
            session.add(case)
            case.explanation = [_without_quotes(e) for e in case.explanation or []]
            for event in kept_rows.events_of_case(session, case.id or 0):
                if any(key in event.data for key in _EVENT_TEXT_KEYS):
                    event.data = {k: v for k, v in event.data.items() if k not in _EVENT_TEXT_KEYS}
                    session.add(event)
        # Every status: a payload that was never processed holds the same words as one that was.
        events = kept_rows.inbound_events(session, before=cutoff)
        raw = 0
        for inbound in events:
            if inbound.payload != {"purged": True} or inbound.error is not None:
                inbound.payload = {"purged": True}
                inbound.error = None
                session.add(inbound)
                raw += 1
        names = _purge_names(session, cutoff)
        _purge_audit_details(session, cutoff)
        record(session, at=now, actor="system", action="retention.purge_text", target_kind="messages",
               detail={"before": cutoff.isoformat(), "messages": purged, "cases": len(cases), "inbound_events": raw,
                       "names": names})
    return purged


def _purge_names(session: Session, cutoff: datetime) -> int:
    """Display names of identities, and names of never-registered residents, silent since ``cutoff``."""
    identities = kept_rows.named_identities_silent_since(session, cutoff)
    for identity in identities:
        identity.display = None
        session.add(identity)
    unregistered = kept_rows.unregistered_named_residents_silent_since(session, cutoff)
    for resident in unregistered:
        resident.name = None
        session.add(resident)
    return len(identities) + len(unregistered)


def _purge_audit_details(session: Session, cutoff: datetime) -> None:
    for entry in kept_rows.audit_entries(session, before=cutoff):
        if any(key in (entry.detail or {}) for key in _AUDIT_TEXT_KEYS):
            entry.detail = {k: v for k, v in entry.detail.items() if k not in _AUDIT_TEXT_KEYS}
            session.add(entry)


# An explanation's facts that quote what the resident wrote (the matched address, an error message).
_QUOTING_PARAMS = frozenset({"address", "error"})


def _without_quotes(entry: dict[str, Any]) -> dict[str, Any]:
    """An explanation entry without the resident's words: the old prose ``reason``, quoting facts."""
    kept = {k: v for k, v in entry.items() if k != "reason"}
    if isinstance(kept.get("params"), dict):
        kept["params"] = {k: v for k, v in kept["params"].items() if k not in _QUOTING_PARAMS}
    return kept
