"""What the sandbox page shows, read straight from the tables the core writes.

The chat is the resident's web identity's Message rows (in and out); the leader's inbox is the
staff member's Page rows — ``web`` pages are delivered there, pages on their other channels are
listed too (marked with the channel) so a page texted to a phone the sandbox cannot reach can still
be answered; the timeline is the case's CaseEvent rows plus its messages. Every function returns
plain JSON-ready dicts, with texts in the viewer's language.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from gridline.bots.web.identities import CHANNEL, web_identity
from gridline.bots.web.timeline import describe_event
from gridline.domain.lifecycle import OPEN_PAGE_STATUSES, UNACKNOWLEDGED_STATUSES
from gridline.i18n import t
from gridline.i18n.explanations import explain
from gridline.kernel.messages import options_from_json
from gridline.storage import case_events, conversations, directory, people, reporters
from gridline.storage import cases as cases_store
from gridline.storage import evidence as evidence_rows
from gridline.storage import pages as pages_store
from gridline.storage.models import Case, Message, Resident, Staff

PAGE_ACTIONS = ("acknowledge", "resolve", "escalate", "reassign")
ACTION_BUTTON_KEYS = {
    "acknowledge": "page.button_ack", "resolve": "page.button_resolve",
    "escalate": "page.button_escalate", "reassign": "page.button_reassign",
}

# Evidence photos on the timeline, served by the sandbox API (api.py).
EVIDENCE_PATH = "/sandbox/api/evidence"


class Clockface:
    """Formats stored UTC times for people: local time in the city's zone."""

    def __init__(self, tz: str) -> None:
        self.zone = ZoneInfo(tz)

    def stamp(self, at: datetime | None) -> dict[str, str] | None:
        if at is None:
            return None
        local = at.astimezone(self.zone)
        return {"utc": at.isoformat(), "local": local.strftime("%m-%d %H:%M:%S")}


def grid_names(session: Session) -> dict[str, str]:
    return directory.grid_names(session)


def demo_residents(session: Session, lang: str) -> list[dict[str, Any]]:
    """Residents from the household records (named and registered in a grid), to chat as."""
    names = grid_names(session)
    rows = people.named_registered_residents(session, limit=200)
    return [
        {"id": r.id, "name": r.name, "grid_code": r.grid_code, "grid_name": names.get(r.grid_code or "", "—"),
         "address": r.address_text, "lang": r.lang}
        for r in rows
    ]


def web_staff(session: Session, lang: str) -> list[dict[str, Any]]:
    """Staff who can be paged on the web inbox, with how many of their web pages are still open."""
    names = grid_names(session)
    open_counts = pages_store.open_counts_by_staff(session, CHANNEL, [s.value for s in OPEN_PAGE_STATUSES])
    rows = directory.active_staff_reachable_on(session, CHANNEL)
    return [
        {"id": s.id, "code": s.code, "name": s.name, "role": s.role, "role_label": t(f"web.role.{s.role}", lang),
         "grid_code": s.grid_code, "grid_name": names.get(s.grid_code or "", "—"),
         "open_pages": int(open_counts.get(s.id or 0, 0))}
        for s in rows
    ]


def _message_json(m: Message, clock: Clockface, staff_names: dict[int, str]) -> dict[str, Any]:
    return {
        "id": m.id, "direction": m.direction,
        # The browser's event id of a resident message, so the page can drop its "sending…" bubble.
        "event_id": m.provider_message_id if m.direction == "in" else None,
        "sender_kind": m.sender_kind, "text": m.text or "",
        "options": [{"label": o.text(m.lang), "data": o.data} for o in options_from_json(m.options)],
        "status": m.status, "at": clock.stamp(m.created_at), "case_id": m.case_id, "intent": m.intent,
        "confidence": m.confidence, "channel": m.channel,
        "staff_name": staff_names.get(m.staff_id) if m.staff_id else None,
    }


def _with_choice_labels(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The core stores a tapped button as ``[<data>]``; show the button's label the person saw."""
    labels = {o["data"]: o["label"] for item in items for o in item.get("options", [])}
    for item in items:
        text = item.get("text") or ""
        if item.get("direction") == "in" and text.startswith("[") and text[1:-1] in labels:
            item["choice"] = text[1:-1]
            item["text"] = labels[text[1:-1]]
    return items


def conversation(session: Session, external_id: str, clock: Clockface, lang: str) -> dict[str, Any]:
    """The resident's chat: every web message in and out, oldest first, and their cases."""
    identity = web_identity(session, external_id)
    if identity is None:
        return {"external_id": external_id, "resident": None, "messages": [], "cases": []}
    messages = conversations.of_identity(session, identity.id or 0, CHANNEL)
    resident = session.get(Resident, identity.resident_id) if identity.resident_id else None
    names = grid_names(session)
    return {
        "external_id": external_id,
        "resident": None if resident is None else {
            "id": resident.id, "name": resident.name, "grid_code": resident.grid_code,
            "grid_name": names.get(resident.grid_code or "", None), "lang": resident.lang,
        },
        "messages": _with_choice_labels([_message_json(m, clock, {}) for m in messages]),
        "cases": resident_cases(session, resident.id, clock, lang) if resident and resident.id else [],
    }


def resident_cases(session: Session, resident_id: int, clock: Clockface, lang: str) -> list[dict[str, Any]]:
    """The resident's cases, newest first, with who was paged (on which channel) to jump to their inbox."""
    cases = reporters.cases_of(session, resident_id, limit=10)
    out = []
    for case in cases:
        pages = pages_store.for_case_with_staff_names(session, case.id or 0)
        on_web: dict[int, str] = {}
        for page, name in pages:
            if page.channel == CHANNEL:
                on_web.setdefault(page.staff_id, name)
        out.append({
            **_case_json(case, clock, lang),
            "paged_on_web": [{"staff_id": k, "name": v} for k, v in on_web.items()],
            "pages": [{"staff_id": page.staff_id, "name": name, "channel": page.channel,
                       "channel_label": t(f"web.channel.{page.channel}", lang), "status": page.status,
                       "status_label": t(f"web.page_status.{page.status}", lang)} for page, name in pages],
        })
    return out


def _case_json(case: Case, clock: Clockface, lang: str) -> dict[str, Any]:
    return {
        "id": case.id, "ref": case.ref, "status": case.status, "status_label": t(f"case_status.{case.status}", lang),
        "category": case.category, "category_label": t(f"category.{case.category}", lang),
        "priority": case.priority, "priority_label": t(f"priority.{case.priority}", lang),
        "summary": case.summary, "grid_code": case.grid_code, "address": case.address_text,
        "report_count": case.report_count, "rating": case.rating,
        "created_at": clock.stamp(case.created_at), "acknowledged_at": clock.stamp(case.acknowledged_at),
        "resolved_at": clock.stamp(case.resolved_at), "closed_at": clock.stamp(case.closed_at),
    }


def inbox(
    session: Session, staff: Staff, clock: Clockface, lang: str, whom: Callable[[Case], list[Staff]]
) -> list[dict[str, Any]]:
    """The staff member's pages, newest first, each with its case, the buttons that still apply and,
    where 转交 is one, whom it offers: ``whom(case)``, the case's ``routing.duty.reassignment_candidates``
    (``act_on_case`` refuses anyone else, so the list offers no one it would refuse)."""
    pages = pages_store.newest_for_staff(session, staff.id or 0, limit=50)
    names = grid_names(session)
    cases = cases_store.by_ids(session, {p.case_id for p in pages})
    offered: dict[int, list[dict[str, Any]]] = {}
    out = []
    for page in pages:
        case = cases[page.case_id]
        actions = available_actions(case)
        if "reassign" in actions and page.case_id not in offered:
            offered[page.case_id] = [_person_json(s, names, lang) for s in whom(case)]
        out.append({
            "page_id": page.id, "status": page.status, "status_label": t(f"web.page_status.{page.status}", lang),
            "reason": page.reason, "created_at": clock.stamp(page.created_at),
            "channel": page.channel, "channel_label": t(f"web.channel.{page.channel}", lang),
            "case": {**_case_json(case, clock, lang), "grid_name": names.get(case.grid_code or "", "—")},
            "actions": [{"action": a, "label": t(ACTION_BUTTON_KEYS[a], lang)} for a in actions],
            "reassign_to": offered.get(page.case_id, []) if "reassign" in actions else [],
        })
    return out


def _person_json(s: Staff, names: dict[str, str], lang: str) -> dict[str, Any]:
    # Department staff have no grid: where they work is their department (「自来水公司」), not 「—」.
    where = names.get(s.grid_code or "") or s.department or "—"
    return {"id": s.id, "code": s.code, "name": s.name, "role": s.role, "role_label": t(f"web.role.{s.role}", lang),
            "grid_code": s.grid_code, "grid_name": where}


def available_actions(case: Case) -> list[str]:
    """Buttons worth showing: nothing on a closed case, only 已解决 once acknowledged."""
    if case.status in ("closed", "resolved"):
        return []
    if case.status in {s.value for s in UNACKNOWLEDGED_STATUSES}:
        return list(PAGE_ACTIONS)
    return ["resolve", "escalate", "reassign"]


def case_timeline(session: Session, case: Case, clock: Clockface, lang: str) -> dict[str, Any]:
    """The case and, oldest first, what happened to it (events) and what was said about it (messages)."""
    events = case_events.events(session, case.id or 0)
    messages = conversations.of_case(session, case.id or 0)
    staff_names = directory.staff_names(session, {m.staff_id for m in messages if m.staff_id})
    # Events before messages of the same instant: "paged" reads before the reply that announces it.
    keyed: list[tuple[tuple[datetime, int, int], dict[str, Any]]] = []
    photos = {row.id for row in evidence_rows.for_case(session, case.id or 0)}
    for event in events:
        item = {"kind": "event", "event": event.kind, "actor": event.actor, "at": clock.stamp(event.at),
                "text": describe_event(event, lang)}
        if event.kind == "evidence" and event.data.get("evidence_id") in photos:
            item["photo_url"] = f"{EVIDENCE_PATH}/{event.data['evidence_id']}"
            item["note"] = str(event.data.get("text") or "")
        keyed.append(((event.at, 0, event.id or 0), item))
    for message in messages:
        keyed.append(((message.created_at, 1, message.id or 0),
                      {"kind": "message", **_message_json(message, clock, staff_names)}))
    entries = _with_choice_labels([entry for _, entry in sorted(keyed, key=lambda pair: pair[0])])
    holder = session.get(Staff, case.acknowledged_by) if case.acknowledged_by else None
    names = grid_names(session)
    return {
        "case": {**_case_json(case, clock, lang), "grid_name": names.get(case.grid_code or "", "—"),
                 "acknowledged_by": holder.name if holder else None,
                 "explanation": [{"decision": e.get("decision", ""), "text": explain(e, lang)}
                                 for e in case.explanation or [] if isinstance(e, dict)]},
        "entries": entries,
    }
