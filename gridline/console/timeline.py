"""Everything that happened to one case, in time order: what the resident said and was told, what
Gridline understood, whom it paged on which channel, who acknowledged, escalations, notes, rating."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from gridline.clock import as_utc
from gridline.console.access import Viewer, message_scope
from gridline.console.case_list import SlaState, sla_state, staff_names, time_to_acknowledge, time_to_resolve
from gridline.storage import acknowledgements, audit, case_events, cases, conversations
from gridline.storage import pages as page_store
from gridline.storage import people as people_store
from gridline.storage import steps as step_store
from gridline.storage.models import (
    Acknowledgement,
    AuditLog,
    Case,
    CaseEvent,
    ChannelIdentity,
    EscalationStep,
    Message,
    NluCorrection,
    Page,
    Resident,
    Staff,
)


@dataclass(frozen=True)
class NluView:
    """The NLU result stored with an inbound message, in the shape the template shows."""

    intent: str | None
    confidence: float | None
    ranking: list[tuple[str, float]]
    entities: list[dict[str, Any]]
    engine: str
    model_version: str
    note: str | None
    data_hash: str = ""

    @classmethod
    def of(cls, message: Message) -> NluView | None:
        data = message.nlu or {}
        if not data and message.intent is None:
            return None
        intent = data.get("intent") or {}
        ranking = [
            (str(r.get("name")), float(r.get("confidence") or 0.0))
            for r in data.get("intent_ranking") or []
            if isinstance(r, dict)
        ]
        return cls(
            intent=message.intent or intent.get("name"),
            confidence=message.confidence if message.confidence is not None else intent.get("confidence"),
            ranking=ranking[:5],
            entities=[e for e in data.get("entities") or [] if isinstance(e, dict)],
            engine=str(data.get("engine") or ""),
            model_version=str(data.get("model_version") or ""),
            note=data.get("note"),
            data_hash=str(data.get("data_hash") or ""),
        )


@dataclass
class TimelineEntry:
    at: datetime
    kind: str  # message | event | page | ack | escalation
    message: Message | None = None
    nlu: NluView | None = None
    correction: NluCorrection | None = None
    event: CaseEvent | None = None
    page: Page | None = None
    ack: Acknowledgement | None = None
    step: EscalationStep | None = None
    staff: Staff | None = None
    from_case: Case | None = None  # a merged duplicate the message came from


@dataclass
class CaseDetail:
    case: Case
    grid_chain: list[str]
    resident: Resident | None
    identities: list[ChannelIdentity]
    assignee: Staff | None
    acknowledged_by: Staff | None
    resolved_by: Staff | None
    duplicate_of: Case | None
    duplicates: list[Case]
    pages: list[tuple[Page, Staff | None]]
    entries: list[TimelineEntry]
    audit: list[AuditLog]
    sla: SlaState
    tta: timedelta | None
    ttr: timedelta | None
    people: dict[int, Staff] = field(default_factory=dict)


def load_case_detail(session: Session, viewer: Viewer, case: Case, now: datetime) -> CaseDetail:
    """Assemble the case page. ``case`` must already be checked against the viewer's scope; merged
    duplicates are shown only when the viewer may see them too."""
    from gridline.console.access import case_scope

    assert case.id is not None
    scope = case_scope(viewer)
    duplicates = cases.duplicates_of(session, case.id, scope=scope)
    duplicate_of = cases.visible(session, case.duplicate_of_id, scope=scope) if case.duplicate_of_id else None
    case_ids = [case.id] + [d.id for d in duplicates if d.id is not None]
    by_id = {c.id: c for c in [case, *duplicates]}

    messages = conversations.messages_of_cases(session, case_ids, scope=message_scope(viewer))
    corrections = conversations.latest_corrections(session, [m.id for m in messages if m.id is not None])
    events = case_events.events(session, case.id)
    pages = page_store.for_case(session, case.id)
    acks = acknowledgements.of_case(session, case.id)
    steps = step_store.run_for_case(session, case.id)
    audit_entries = audit.about(session, "case", case.id)

    staff_ids = {p.staff_id for p in pages} | {a.staff_id for a in acks}
    staff_ids |= {sid for sid in (case.assignee_staff_id, case.acknowledged_by, case.resolved_by) if sid}
    people = staff_names(session, staff_ids)

    entries: list[TimelineEntry] = []
    for m in messages:
        entries.append(
            TimelineEntry(
                at=as_utc(m.created_at),
                kind="message",
                message=m,
                nlu=NluView.of(m) if m.direction == "in" else None,
                correction=corrections.get(m.id) if m.id is not None else None,
                staff=people.get(m.staff_id) if m.staff_id else None,
                from_case=by_id.get(m.case_id) if m.case_id != case.id else None,
            )
        )
    # The core writes an event for each acknowledgement and each escalation step; the
    # acknowledgement rows and the events already say it, so those duplicates are left out.
    skip = {"acknowledged"} if acks else set()
    entries += [TimelineEntry(at=as_utc(e.at), kind="event", event=e) for e in events if e.kind not in skip]
    entries += [
        TimelineEntry(at=as_utc(p.created_at), kind="page", page=p, staff=people.get(p.staff_id)) for p in pages
    ]
    entries += [TimelineEntry(at=as_utc(a.at), kind="ack", ack=a, staff=people.get(a.staff_id)) for a in acks]
    if not any(e.kind in ("paged", "escalated") for e in events):
        entries += [TimelineEntry(at=as_utc(s.done_at), kind="escalation", step=s) for s in steps if s.done_at]
    order = {"message": 0, "event": 1, "page": 2, "ack": 3, "escalation": 4}
    entries.sort(key=lambda e: (e.at, order[e.kind]))

    resident = session.get(Resident, case.resident_id) if case.resident_id else None
    identities = people_store.identities_of_resident(session, resident.id or 0) if resident else []
    return CaseDetail(
        case=case,
        grid_chain=[],
        resident=resident,
        identities=identities,
        assignee=people.get(case.assignee_staff_id) if case.assignee_staff_id else None,
        acknowledged_by=people.get(case.acknowledged_by) if case.acknowledged_by else None,
        resolved_by=people.get(case.resolved_by) if case.resolved_by else None,
        duplicate_of=duplicate_of,
        duplicates=duplicates,
        pages=[(p, people.get(p.staff_id)) for p in pages],
        entries=entries,
        audit=audit_entries,
        sla=sla_state(case, now),
        tta=time_to_acknowledge(case),
        ttr=time_to_resolve(case),
        people=people,
    )
