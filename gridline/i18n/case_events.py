"""One renderer per case-event kind, for every screen that shows a timeline (the console, the
sandbox): a short title (``console.event.<kind>``) and a sentence with the event's facts
(``web.event.<kind>``, or the title when a kind needs no more)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from gridline.domain.case_events import CaseEventKind
from gridline.i18n import has, join, t

K = CaseEventKind
KINDS = frozenset(kind.value for kind in CaseEventKind)


def _people(data: Mapping[str, Any], lang: str) -> str:
    people = data.get("people") or []
    return join((str(p.get("name", "?")) for p in people if isinstance(p, dict)), lang) or "—"


def _category(lang: str, value: Any) -> str:
    key = f"category.{value}"
    return t(key, lang) if has(key) else str(value)


def _name(data: Mapping[str, Any], _: str) -> dict[str, Any]:
    return {"name": data.get("name", "—")}


def _name_channel(data: Mapping[str, Any], _: str) -> dict[str, Any]:
    return {"name": data.get("name", "—"), "channel": data.get("channel", "—")}


def _text(data: Mapping[str, Any], _: str) -> dict[str, Any]:
    return {"text": data.get("text", "")}


# kind → the placeholders of its sentence, taken from the event's data.
PARAMS: dict[CaseEventKind, Callable[[Mapping[str, Any], str], dict[str, Any]]] = {
    K.CREATED: lambda d, lang: {"category": _category(lang, d.get("category")), "grid": d.get("grid") or "—"},
    K.PAGED: lambda d, lang: {"people": _people(d, lang)},
    K.ESCALATED: lambda d, lang: {"people": _people(d, lang)},
    K.ACKNOWLEDGED: _name_channel,
    K.RESOLVED: _name_channel,
    K.ESCALATED_BY_STAFF: _name,
    K.REASSIGNED: lambda d, lang: {"name": d.get("name", "—"), "by": d.get("by", "—")},
    K.RATED: lambda d, lang: {"stars": "★" * int(d.get("rating", 0) or 0), "rating": d.get("rating", "?")},
    K.RECATEGORISED: lambda d, lang: {"old": _category(lang, d.get("from")), "new": _category(lang, d.get("to"))},
    K.REPORTED_AGAIN: lambda d, lang: {"count": d.get("count", "?")},
    K.STAFF_REPLY: lambda d, lang: {"name": d.get("name", "—"), "text": d.get("text", "")},
    K.NOTE: _text,
    K.MERGED_IN: lambda d, lang: {"ref": d.get("from", "?")},
    K.SPLIT_OFF: lambda d, lang: {"ref": d.get("to", "?")},
    K.WITHDRAWN_BY_RESIDENT: lambda d, lang: {"words": d.get("words", "")},
    K.FILED_TOGETHER: lambda d, lang: {"refs": join(d.get("with") or ["?"], lang), "text": d.get("text", "")},
    K.CLOSED: lambda d, lang: {"reason": d.get("reason", "")},
    K.EVIDENCE: lambda d, lang: {"channel": d.get("channel", "—")},
}


def event_title(kind: str, lang: str) -> str:
    """The kind's short title; a kind without one (an old row) shows by name."""
    key = f"console.event.{kind}"
    return t(key, lang) if has(key) else kind


def describe_event(kind: str, data: Mapping[str, Any] | None, actor: str, lang: str) -> str:
    """A sentence for the timeline in ``lang``."""
    key = f"web.event.{kind}"
    if kind == CaseEventKind.REPORTED_AGAIN and (data or {}).get("again"):
        key = "web.event.reported_again_same"  # a follow-up of one who reported it: no new reporter
    if kind == CaseEventKind.FILED_TOGETHER and (data or {}).get("text"):
        key = "web.event.filed_together_text"  # the message itself is on another case's timeline
    if not has(key):
        return event_title(kind, lang)
    make = PARAMS.get(CaseEventKind(kind)) if kind in KINDS else None
    return t(key, lang, **(make(data or {}, lang) if make else {}))
