"""One line of text per case event, in the viewer's language (the texts live in i18n/web.toml)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gridline.i18n import has, join, t
from gridline.storage.models import CaseEvent


def _people(data: dict[str, Any], lang: str) -> str:
    people = data.get("people") or []
    return join((str(p.get("name", "?")) for p in people if isinstance(p, dict)), lang) or "—"


def _category(lang: str, value: Any) -> str:
    key = f"category.{value}"
    return t(key, lang) if has(key) else str(value)


# kind → the placeholders its text needs, taken from the event's data.
PARAMS: dict[str, Callable[[dict[str, Any], str], dict[str, Any]]] = {
    "created": lambda d, lang: {"category": _category(lang, d.get("category")), "grid": d.get("grid") or "—"},
    "paged": lambda d, lang: {"people": _people(d, lang)},
    "escalated": lambda d, lang: {"people": _people(d, lang)},
    "acknowledged": lambda d, lang: {"name": d.get("name", "—"), "channel": d.get("channel", "—")},
    "resolved": lambda d, lang: {"name": d.get("name", "—"), "channel": d.get("channel", "—")},
    "escalated_by_staff": lambda d, lang: {"name": d.get("name", "—")},
    "reassigned": lambda d, lang: {"name": d.get("name", "—"), "by": d.get("by", "—")},
    "rated": lambda d, lang: {"stars": "★" * int(d.get("rating", 0) or 0), "rating": d.get("rating", "?")},
    "recategorised": lambda d, lang: {"old": _category(lang, d.get("from")), "new": _category(lang, d.get("to"))},
    "reported_again": lambda d, lang: {"count": d.get("count", "?")},
    "staff_reply": lambda d, lang: {"name": d.get("name", "—"), "text": d.get("text", "")},
    "note": lambda d, lang: {"text": d.get("text", "")},
    "merged_in": lambda d, lang: {"ref": d.get("from", "?")},
    "closed": lambda d, lang: {"reason": d.get("reason", "")},
    "evidence": lambda d, lang: {"channel": d.get("channel", "—")},
}


def describe_event(event: CaseEvent, lang: str) -> str:
    """A sentence for the timeline; kinds this module does not know still show, by name."""
    key = f"web.event.{event.kind}"
    if not has(key):
        return t("web.event.other", lang, kind=event.kind, actor=event.actor)
    params = PARAMS.get(event.kind, lambda d, lang: {})(event.data or {}, lang)
    return t(key, lang, **params)
