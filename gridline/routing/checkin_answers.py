"""Answers to check-ins: "1" is well, "2 需要帮助" opens an urgent case at once, a helper's "1" is
someone going to the door; a bare number answers the question waiting for that person."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gridline.i18n import DEFAULT_LANGUAGE
from gridline.kernel.work import Work
from gridline.routing.checkin_questions import choice_data, parse_choice, publish_checkin, reason_label
from gridline.routing.checkin_stages import open_checkin_case
from gridline.routing.checkin_states import ANSWERABLE, CheckInStatus, transition
from gridline.settings import Settings
from gridline.storage import checkins as store
from gridline.storage import sweeps as sweep_store


@dataclass
class Answered:
    """The reply to a check-in answer, as a catalogue key and its facts (the channel renders it)."""

    key: str
    params: dict[str, Any] = field(default_factory=dict)
    case_id: int | None = None
    case_ref: str | None = None


def waiting_choice(work: Work, identity_id: int | None, resident_id: int | None, number: int) -> str | None:
    """A bare "1"/"2" from a person with a question waiting: the choice it means, else None."""
    if number not in (1, 2):
        return None
    waiting = store.waiting_question(work.session, identity_id=identity_id, resident_id=resident_id)
    if waiting is None:
        return None
    return choice_data(waiting.id or 0, "ok" if number == 1 else "help")


def answer(
    work: Work,
    settings: Settings,
    data: str,
    *,
    identity_id: int | None,
    resident_id: int | None,
    phone: str | None,
    lang: str,
    actor: str,
) -> Answered:
    """The person's answer (option data ``chk:<id>:ok|help|going``); the reply to send them."""
    parsed = parse_choice(data)
    checkin = store.get(work.session, parsed[0]) if parsed else None
    if parsed is None or checkin is None:
        return Answered("checkins.reply.closed")
    value = parsed[1]
    household = store.household_of(work.session, checkin.household_id)
    assert household is not None
    if value == "going":
        if not phone or phone != household.helper_phone:
            return Answered("checkins.reply.closed")
        if checkin.attended_at is None:
            checkin.attended_at, checkin.attended_by = work.now, actor
            store.add_event(work.session, checkin.id or 0, at=work.now, kind="attended", actor=actor, data={})
            publish_checkin(work, checkin)
        return Answered("checkins.reply.going")
    mine = (identity_id is not None and identity_id == checkin.identity_id) or (
        resident_id is not None and resident_id == checkin.resident_id
    )
    if not mine or CheckInStatus(checkin.status) not in ANSWERABLE:
        return Answered("checkins.reply.closed")
    if checkin.resident_id is None:
        checkin.resident_id = resident_id  # a sweep's number nobody had written from before
    late = checkin.status in (CheckInStatus.ESCALATED, CheckInStatus.MISSED)
    store.cancel_pending_steps(work.session, checkin.id or 0, now=work.now, outcome=f"answered {value}")
    checkin.answer = value
    if value == "ok":
        transition(work, checkin, CheckInStatus.OK, actor=actor)
        publish_checkin(work, checkin)
        return Answered("checkins.reply.ok_late" if late else "checkins.reply.ok")
    transition(work, checkin, CheckInStatus.HELP, actor=actor)
    person = store.person_of(work.session, checkin.person_id)
    reason = ""
    if checkin.kind == "sweep" and checkin.sweep_id is not None:
        sweep = sweep_store.get_sweep(work.session, checkin.sweep_id)
        reason = reason_label(settings, sweep.reason, DEFAULT_LANGUAGE) if sweep else ""
    if checkin.case_id is None:
        open_checkin_case(work, settings, checkin, household, person, "help", reason=reason)
    case_id = checkin.case_id
    from gridline.storage import cases

    case = cases.get(work.session, case_id) if case_id else None
    publish_checkin(work, checkin)
    return Answered("checkins.reply.help", {"ref": case.ref if case else ""}, case_id, case.ref if case else None)
