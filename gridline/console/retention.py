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

from sqlmodel import col, select

from gridline.core.services import Services
from gridline.routing.lifecycle import OPEN_CASE_STATUSES
from gridline.storage.audit import record
from gridline.storage.db import Database
from gridline.storage.models import Case, CaseEvent, InboundEvent, Message

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


def purge_old_text(services: Services) -> int:
    """Remove texts older than the retention period; returns how many messages lost their text.

    Safe to run repeatedly (a job or ``gridline console purge-text``); does nothing when the
    retention period is 0.
    """
    days = services.settings.console.retention_days
    if days <= 0:
        return 0
    return purge_text_before(services.db, services.clock.now() - timedelta(days=days), now=services.clock.now())


def purge_text_before(db: Database, cutoff: datetime, *, now: datetime | None = None) -> int:
    """Remove the texts of everything older than ``cutoff`` (see the module docstring)."""
    now = now or cutoff
    open_cases = select(Case.id).where(col(Case.status).in_(sorted(OPEN_CASE_STATUSES)))
    purged = 0
    while True:
        with db.session() as session:
            batch = session.exec(
                select(Message)
                .where(
                    col(Message.created_at) < cutoff,
                    col(Message.text_purged).is_(False),
                    (col(Message.case_id).is_(None)) | (col(Message.case_id).not_in(open_cases)),
                )
                .limit(BATCH)
            ).all()
            for message in batch:
                message.text = None
                message.nlu = _strip_nlu(message.nlu)
                message.text_purged = True
                session.add(message)
            purged += len(batch)
        if len(batch) < BATCH:
            break

    with db.session() as session:
        cases = session.exec(
            select(Case).where(
                col(Case.created_at) < cutoff,
                col(Case.status).not_in(sorted(OPEN_CASE_STATUSES)),
                (col(Case.summary) != "") | col(Case.rating_comment).is_not(None) | col(Case.address_text).is_not(None),
            )
        ).all()
        for case in cases:
            case.summary = ""
            case.rating_comment = None
            case.address_text = None
            session.add(case)
            for event in session.exec(
                select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.kind == "staff_reply")
            ).all():
                if "text" in event.data:
                    event.data = {k: v for k, v in event.data.items() if k != "text"}
                    session.add(event)
        events = session.exec(
            select(InboundEvent).where(
                col(InboundEvent.received_at) < cutoff,
                InboundEvent.status == "processed",
            )
        ).all()
        raw = 0
        for inbound in events:
            if inbound.payload != {"purged": True}:
                inbound.payload = {"purged": True}
                session.add(inbound)
                raw += 1
        record(session, at=now, actor="system", action="retention.purge_text", target_kind="messages",
               detail={"before": cutoff.isoformat(), "messages": purged, "cases": len(cases), "inbound_events": raw})
    return purged
