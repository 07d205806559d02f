"""One line of text per case event, in the viewer's language (``gridline.i18n.case_events``)."""

from __future__ import annotations

from gridline.i18n.case_events import describe_event as describe
from gridline.storage.models import CaseEvent


def describe_event(event: CaseEvent, lang: str) -> str:
    """A sentence for the sandbox's timeline (the console's renders the same way)."""
    return describe(event.kind, event.data, event.actor, lang)
