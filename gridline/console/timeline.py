"""Everything that happened to one case, in time order: what the resident said and was told, what
Gridline understood, whom it paged on which channel, who acknowledged, escalations, notes, rating."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from gridline.clock import as_utc
from gridline.console.access import Viewer, message_scope
from gridline.console.case_list import SlaState, sla_state, staff_names, time_to_acknowledge, time_to_resolve
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
    duplicates = list(
        session.exec(
            select(Case).where(Case.duplicate_of_id == case.id, case_scope(viewer)).order_by(col(Case.created_at))
        ).all()
    )
    duplicate_of = None
    if case.duplicate_of_id is not None:
        duplicate_of = session.exec(
            select(Case).where(Case.id == case.duplicate_of_id, case_scope(viewer))
        ).first()
    case_ids = [case.id] + [d.id for d in duplicates if d.id is not None]
    by_id = {c.id: c for c in [case, *duplicates]}

    messages = session.exec(
        select(Message)
        .where(col(Message.case_id).in_(case_ids), message_scope(viewer))
        .order_by(col(Message.created_at), col(Message.id))
    ).all()
    corrections: dict[int, NluCorrection] = {}
    if messages:
        for corr in session.exec(
            select(NluCorrection)
            .where(col(NluCorrection.message_id).in_([m.id for m in messages]))
            .order_by(col(NluCorrection.created_at))
        ).all():
            corrections[corr.message_id] = corr  # the latest wins
    events = session.exec(
        select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(col(CaseEvent.at), col(CaseEvent.id))
    ).all()
    pages = session.exec(
        select(Page).where(Page.case_id == case.id).order_by(col(Page.created_at), col(Page.id))
    ).all()
    acks = session.exec(
        select(Acknowledgement).where(Acknowledgement.case_id == case.id).order_by(col(Acknowledgement.at))
    ).all()
    steps = session.exec(
        select(EscalationStep)
        .where(EscalationStep.case_id == case.id, col(EscalationStep.done_at).is_not(None))
        .order_by(col(EscalationStep.done_at))
    ).all()
    audit = session.exec(
        select(AuditLog)
        .where(AuditLog.target_kind == "case", AuditLog.target_id == str(case.id))
        .order_by(col(AuditLog.at), col(AuditLog.id))
    ).all()

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
    identities = (
        list(session.exec(select(ChannelIdentity).where(ChannelIdentity.resident_id == resident.id)).all())
        if resident
        else []
    )
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
        audit=list(audit),
        sla=sla_state(case, now),
        tta=time_to_acknowledge(case),
        ttr=time_to_resolve(case),
        people=people,
    )
