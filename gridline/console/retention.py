"""Retention: after ``console.retention_days`` the words people wrote are removed, the statistics stay.

What goes: message text (and the text and entity values inside its stored NLU result), the case
summary and rating comment, the text of leaders' replies in the case timeline, and the raw provider
payload of processed inbound events. What stays: every row, every time, category, intent and
confidence, page, acknowledgement and rating — so the dashboard's figures do not change.

Cases that are still open keep their texts until they are closed: the people handling them need them.
Corrected NLU labels (``nlu_corrections``) are training data chosen by a supervisor and are kept.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from gridline.core.services import Services
from gridline.core.work import in_transaction
from gridline.routing.lifecycle import OPEN_CASE_STATUSES
from gridline.storage import retention as store
from gridline.storage.audit import record
from gridline.storage.db import Database

BATCH = 500


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
    retention period is 0. A batch per unit of work, so no transaction holds many rows for long.
    """
    days = services.settings.console.retention_days
    if days <= 0:
        return 0
    cutoff = services.clock.now() - timedelta(days=days)
    purged = 0
    while True:
        count = await in_transaction(services, lambda work: purge_message_batch(work.session, cutoff))
        purged += count
        if count < BATCH:
            break
    await in_transaction(
        services, lambda work: purge_cases_and_payloads(work.session, cutoff, now=work.now, messages=purged)
    )
    return purged


def purge_text_before(db: Database, cutoff: datetime, *, now: datetime | None = None) -> int:
    """Remove the texts of everything older than ``cutoff`` (see the module docstring). Blocking:
    call it from the command line or in a database thread."""
    now = now or cutoff
    purged = 0
    while True:
        with db.session() as session:
            count = purge_message_batch(session, cutoff)
        purged += count
        if count < BATCH:
            break
    with db.session() as session:
        purge_cases_and_payloads(session, cutoff, now=now, messages=purged)
    return purged


def purge_message_batch(session: Session, cutoff: datetime) -> int:
    """Remove the text of one batch of old messages; returns how many."""
    batch = store.messages_with_text_before(session, cutoff, open_statuses=OPEN_CASE_STATUSES, limit=BATCH)
    for message in batch:
        message.text = None
        message.nlu = _strip_nlu(message.nlu)
        message.text_purged = True
        session.add(message)
    return len(batch)


def purge_cases_and_payloads(session: Session, cutoff: datetime, *, now: datetime, messages: int) -> None:
    """Remove old finished cases' words and processed inbound payloads, and audit the whole purge."""
    cases = store.finished_cases_with_text_before(session, cutoff, open_statuses=OPEN_CASE_STATUSES)
    for case in cases:
        case.summary = ""
        case.rating_comment = None
        case.address_text = None
        session.add(case)
        for event in store.staff_replies(session, case.id or 0):
            if "text" in event.data:
                event.data = {k: v for k, v in event.data.items() if k != "text"}
                session.add(event)
    raw = 0
    for inbound in store.processed_inbound_before(session, cutoff):
        if inbound.payload != {"purged": True}:
            inbound.payload = {"purged": True}
            session.add(inbound)
            raw += 1
    record(session, at=now, actor="system", action="retention.purge_text", target_kind="messages",
           detail={"before": cutoff.isoformat(), "messages": messages, "cases": len(cases), "inbound_events": raw})
