"""A photo or a voicemail without words: it belongs to the open case the resident last wrote about —
one they opened or one their report joined (「已有 2 人反映」) — or opens one."""

from __future__ import annotations

from gridline.core.conversation.filing import file
from gridline.core.conversation.states import IDLE, State
from gridline.core.conversation.step import Step
from gridline.core.reports import decide_report
from gridline.domain.lifecycle import OPEN_CASE_STATUSES
from gridline.i18n import DEFAULT_LANGUAGE, t
from gridline.nlu.types import NluResult
from gridline.routing.timeline import record_event
from gridline.storage import reporters


def attach_media(step: Step, state: State) -> State:
    """Attach the media to the open case the resident last wrote about (``storage.reporters.last_written_about``:
    a neighbour who joined a case has none of their own), or file it as a report of its own."""
    resident, msg = step.resident, step.turn.msg
    statuses = [s.value for s in OPEN_CASE_STATUSES]
    case = reporters.last_written_about(step.work.session, resident.id or 0, statuses=statuses)
    if case is not None:
        record_event(step.work, case.id or 0, "media", f"resident:{resident.id}", {"media": list(msg.media)})
        step.about(case.id, case.ref)
        step.say("case.media_attached", ref=case.ref)
        return IDLE
    kind = msg.media[0].get("kind", "photo") if msg.media else "photo"
    # The case's summary is stored (and shown to staff) in the catalogue's language.
    summary = t("case.voicemail_summary" if kind == "voicemail" else "case.photo_summary", DEFAULT_LANGUAGE)
    nlu = NluResult(text=summary, intent="other", confidence=0.0, engine="none")
    return file(step, decide_report(step.services, step.work, step.sender, nlu, summary, msg), IDLE)
