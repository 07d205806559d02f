"""Jinja2 rendering for the console: autoescaped templates, the message catalogue, local times.

Everything a resident typed reaches a template as plain text and is escaped there; the few places
that build markup in Python (entity highlighting, the chart) escape every piece themselves.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape

from gridline.clock import as_utc
from gridline.console.delivery_errors import read_delivery_error
from gridline.domain import privacy
from gridline.i18n import has, join, other_language, t
from gridline.i18n.case_events import describe_event, event_title
from gridline.i18n.explanations import explain

TEMPLATES = Path(__file__).parent / "templates"


def console_text(key: str, lang: str, /, **params: Any) -> str:
    """A console message (``console.<key>``); unknown keys fall back to the key itself only for
    open-ended values (categories, statuses) that have no catalogue entry."""
    full = f"console.{key}"
    if has(full):
        return t(full, lang, **params)
    return key.rsplit(".", 1)[-1]


def local_time(value: datetime | None, tz: ZoneInfo, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if value is None:
        return ""
    return as_utc(value).astimezone(tz).strftime(fmt)


def duration_text(delta: timedelta | float | None, lang: str) -> str:
    """``3 min``, ``2 h 05 min``, ``1 d 4 h`` in the user's language."""
    if delta is None:
        return "—"
    seconds = delta.total_seconds() if isinstance(delta, timedelta) else float(delta)
    sign = "-" if seconds < 0 else ""
    seconds = abs(round(seconds))
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return sign + console_text("unit.d_h", lang, d=days, h=hours)
    if hours:
        return sign + console_text("unit.h_min", lang, h=hours, min=f"{minutes:02d}")
    if minutes:
        return sign + console_text("unit.min", lang, min=minutes)
    return sign + console_text("unit.s", lang, s=secs)


# Keys of event data and explanations that the page shows elsewhere, or that only machines read.
HIDDEN_KEYS = frozenset(
    {"decision", "reason", "code", "params", "people", "explanation", "policy", "page_id", "text", "evidence_id"}
)


# Event and explanation facts whose stored value is a code with a catalogue label.
_LABELLED = {
    "category": "category", "from": "category", "to": "category", "previous": "category", "guess": "category",
    "intent": "category", "priority": "console.priority", "target": "console.target", "notify": "console.target",
    "channel": "console.channel",
}  # fmt: skip
# Counters stored from 0 that people count from 1 (the page line says 第 1 轮第 1 步 for round 0, step 0).
_COUNTED_FROM_ZERO = frozenset({"round", "step"})


# A stored moment (``2026-12-02T08:53:05.621437+00:00``), shown in local time.
_STORED_MOMENT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d")
# An extension's length as stored (``3wd``, ``48h``).
_LIMIT = re.compile(r"^(\d+)(wd|h)$")


def delivery_error_text(error: str, lang: str) -> str:
    """A provider's stored error (``twilio 400 21610 …``) as the supervisor reads it: what it means
    in ``lang``, with the provider's code (``console.delivery_error.*``)."""
    read = read_delivery_error(error)
    text = console_text(f"delivery_error.{read.reason}", lang)
    return console_text("delivery_error.with_code", lang, text=text, code=read.code) if read.code else text


def fact_text(key: str, value: Any, lang: str, tz: ZoneInfo | None = None, status_of: str | None = None) -> str:
    """One stored fact as a supervisor reads it: labels for codes (供水, 值班网格长), rounds from 1,
    moments in local time, an extension's ``3wd`` as 3个工作日. ``status_of`` names the catalogue of
    a ``from``/``to`` status (a transfer's or an extension's) when the event is about one."""
    if isinstance(value, str) and tz is not None and _STORED_MOMENT.match(value):
        try:
            return local_time(datetime.fromisoformat(value), tz, "%m-%d %H:%M")
        except ValueError:
            pass
    if key == "error" and isinstance(value, str) and value:
        return delivery_error_text(value, lang)  # a 回访 call's failure: the provider's words explained
    if key == "amount" and isinstance(value, str) and (limit := _LIMIT.match(value)):
        n, unit = int(limit.group(1)), limit.group(2)
        if unit == "wd":
            return t("deadline.working_day", lang) if n == 1 else t("deadline.working_days", lang, n=n)
        return t("deadline.hours", lang, n=n)
    if status_of and key in ("from", "to") and isinstance(value, str) and has(f"{status_of}.{value}"):
        return t(f"{status_of}.{value}", lang)
    if key == "outcome" and isinstance(value, str):
        # A 回访 call's outcome (fu.outcome_satisfied), or a visit's (visits.outcome.ok).
        for label in (f"console.fu.outcome_{value}", f"console.visits.outcome.{value}"):
            if has(label):
                return t(label, lang)
    prefix = _LABELLED.get(key)
    if prefix and isinstance(value, str) and has(f"{prefix}.{value}"):
        return t(f"{prefix}.{value}", lang)
    if prefix and isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        # A step's targets (``notify: ["on_duty_leader", "backup"]``): each code its label.
        return join((t(f"{prefix}.{v}", lang) if has(f"{prefix}.{v}") else v for v in value), lang)
    if key in _COUNTED_FROM_ZERO and isinstance(value, int) and not isinstance(value, bool):
        return str(value + 1)
    if isinstance(value, list) and key in ("candidates", "ranking"):
        return ", ".join(_ranked(v, lang) for v in value[:8]) + (" …" if len(value) > 8 else "")
    return describe(value)


def _ranked(value: Any, lang: str) -> str:
    if isinstance(value, dict) and isinstance(value.get("name"), str) and has(f"category.{value['name']}"):
        return f"{t('category.' + value['name'], lang)} {describe(value.get('confidence', ''))}".strip()
    return describe(value)


def describe(value: Any) -> str:
    """A stored JSON value as a person reads it: ``water_supply 1.00, noise 0.12``; ``a, b``; ``k: v``."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "✓" if value else "✗"
    if isinstance(value, float):
        return f"{value:.2f}"
    if isinstance(value, dict):
        if "name" in value and ("confidence" in value or "why" in value or "channel" in value):
            extra = value.get("confidence", value.get("why", value.get("channel", "")))
            return f"{value['name']} {describe(extra)}".strip()
        return "; ".join(f"{k}: {describe(v)}" for k, v in value.items() if k not in HIDDEN_KEYS)
    if isinstance(value, list | tuple):
        return ", ".join(describe(v) for v in value[:8]) + (" …" if len(value) > 8 else "")
    return str(value)


def visible_items(data: dict[str, Any] | None, lang: str, tz: ZoneInfo | None = None) -> list[tuple[str, str]]:
    """The (key, text) pairs of ``data`` worth showing, in ``lang`` (moments in ``tz``)."""
    data = data or {}
    status_of = ("console.extension_status" if "extension_id" in data
                 else "console.transfer_status" if "transfer_id" in data else None)
    return [(k, fact_text(k, v, lang, tz, status_of)) for k, v in data.items() if k not in HIDDEN_KEYS]


def actor_text(actor: str, lang: str) -> str:
    """Who did it, on the timeline: Gridline itself is 系统, not ``system``; people keep their code."""
    return console_text("sender.system", lang) if actor == "system" else actor


def identity_text(channel: str, external_id: str | None, display: str | None, lang: str) -> str:
    """A channel identity as the console shows it (masked), and a nameless web visitor by the channel's
    name in ``lang`` (网页), not its code."""
    shown = privacy.mask_identity(channel, external_id, display)
    return console_text(f"channel.{channel}", lang) if shown == channel else shown


def highlight_entities(text: str | None, entities: list[dict[str, Any]] | None, masked: bool,
                       lang: str | None = None) -> Markup:
    """The message text with NLU entities marked; every piece is escaped, offsets out of range are ignored.
    With ``lang`` an entity is named in it (地址, not the model's ``address``) when the catalogue knows it."""
    text = text or ""
    spans = []
    for ent in entities or []:
        start, end = ent.get("start"), ent.get("end")
        if isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text):
            name = str(ent.get("entity", ""))
            if lang and has(f"console.entity.{name}"):
                name = t(f"console.entity.{name}", lang)
            spans.append((start, end, name))
    spans.sort()
    out: list[str] = []
    pos = 0
    # Masked as a whole before it is cut: a number may run across an entity's edge.
    shown = privacy.mask_in_place(text) if masked else text
    for start, end, name in spans:
        if start < pos:  # overlapping entities: keep the first
            continue
        out.append(str(escape(shown[pos:start])))
        out.append(
            f'<mark class="entity" title="{escape(name)}">{escape(shown[start:end])}'
            f'<sub>{escape(name)}</sub></mark>'
        )
        pos = end
    out.append(str(escape(shown[pos:])))
    return Markup("".join(out))


def build_environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(["html", "svg"], default_for_string=True, default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["mask_phone"] = privacy.mask_phone
    env.filters["mask_text"] = privacy.mask_text
    env.filters["mask_handle"] = privacy.mask_handle
    # Stored details as people read them: Chinese stays Chinese (not \u90d1…); autoescape escapes HTML.
    env.filters["readable_json"] = lambda value: json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    env.globals["mask_identity"] = privacy.mask_identity
    env.globals["highlight_entities"] = highlight_entities
    env.globals["has_contact_details"] = privacy.has_contact_details
    env.globals["urlencode"] = urlencode
    return env


class Renderer:
    """Renders templates with the per-request context (language, time zone, user, CSRF token)."""

    def __init__(self, tz_name: str) -> None:
        self.env = build_environment()
        self.tz = ZoneInfo(tz_name)

    def render(self, template: str, lang: str, **context: Any) -> str:
        tz = self.tz

        def _(key: str, **params: Any) -> str:
            return console_text(key, lang, **params)

        base = {
            "_": _,
            "lang": lang,
            "other_lang": other_language(lang),
            "tz_name": str(tz),
            "when": lambda v, fmt="%Y-%m-%d %H:%M": local_time(v, tz, fmt),
            "duration": lambda d: duration_text(d, lang),
            # One renderer per case-event kind, shared with the sandbox (gridline.i18n.case_events).
            "event_title": lambda kind: event_title(kind, lang),
            "event_text": lambda e: describe_event(e.kind, e.data, e.actor, lang),
            "explain": lambda entry: explain(entry, lang),
            "visible_items": lambda data: visible_items(data, lang, tz),
            "delivery_error": lambda error: delivery_error_text(error, lang),
            "actor_text": lambda actor: actor_text(actor, lang),
            "highlight_entities": lambda text, entities, masked: highlight_entities(text, entities, masked, lang),
            "mask_identity": lambda channel, external_id, display=None: identity_text(
                channel, external_id, display, lang),
        }
        base.update(context)
        return self.env.get_template(template).render(**base)
