"""The 回访 call the voice channel places: a supervisor clicks "call" on a follow-up task, Gridline
rings the resident, asks "问题解决了吗？满意请按1，没解决请按2", then for a rating, and records the keys.

A call is a state machine (:class:`CallStatus`, :data:`CALL_TRANSITIONS`, one :func:`transition`):

    placing ──▶ ringing ──▶ answered ──▶ confirmed (1: solved) ──▶ satisfied (the rating key)
       │           │            ├──▶ not_solved (2: reopened one level up, routing.closure)
       ▼           ▼            └──▶ no_key (hung up or silent without answering)
     failed    unreachable (busy, no answer, failed, an answering machine)

What the keys mean for the case is what the console's own 回访 form does with the same answers:
"solved" confirms a resolved case (``resident_confirmed``; 解决率 counts it) and the rating closes it;
"not solved" reopens a resolved case one level up. The task records the outcome and who placed the
call (``console:<user>``). This module is channel-neutral: the Twilio side (TwiML, the REST call)
is ``bots/twilio/voice_followup.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from gridline.domain.lifecycle import CaseStatus, ForbiddenTransition
from gridline.i18n import DEFAULT_LANGUAGE
from gridline.kernel.work import Work
from gridline.routing import closure
from gridline.routing.grids import GridIndex
from gridline.routing.rating import rate_case
from gridline.routing.timeline import publish_case, record_event
from gridline.storage import case_events, directory
from gridline.storage import follow_up_calls as store
from gridline.storage.models import Case, FollowUp, FollowUpCall, Resident, Staff


class CallStatus(StrEnum):
    PLACING = "placing"  # row written, Twilio not yet asked
    RINGING = "ringing"  # Twilio accepted the call (it has a CallSid)
    ANSWERED = "answered"  # a person picked up and hears the question
    CONFIRMED = "confirmed"  # pressed 1: solved (the rating question follows)
    SATISFIED = "satisfied"  # gave the rating too
    NOT_SOLVED = "not_solved"  # pressed 2
    NO_KEY = "no_key"  # answered, but hung up or stayed silent without an answer
    UNREACHABLE = "unreachable"  # busy, no answer, failed, or an answering machine
    FAILED = "failed"  # Twilio refused the call (or Twilio is not configured)


IN_PROGRESS = frozenset({CallStatus.PLACING, CallStatus.RINGING, CallStatus.ANSWERED})

CALL_TRANSITIONS: dict[CallStatus, frozenset[CallStatus]] = {
    CallStatus.PLACING: frozenset({CallStatus.RINGING, CallStatus.FAILED}),
    CallStatus.RINGING: frozenset({CallStatus.ANSWERED, CallStatus.UNREACHABLE}),
    CallStatus.ANSWERED: frozenset(
        {CallStatus.CONFIRMED, CallStatus.NOT_SOLVED, CallStatus.NO_KEY, CallStatus.UNREACHABLE}
    ),
    CallStatus.CONFIRMED: frozenset({CallStatus.SATISFIED}),
    CallStatus.SATISFIED: frozenset(),
    CallStatus.NOT_SOLVED: frozenset(),
    CallStatus.NO_KEY: frozenset(),
    CallStatus.UNREACHABLE: frozenset(),
    CallStatus.FAILED: frozenset(),
}

# Twilio's final call statuses that mean nobody was reached.
NOT_REACHED = frozenset({"busy", "no-answer", "failed", "canceled"})


def check_call_transition(current: str, wanted: str) -> CallStatus:
    cur, new = CallStatus(current), CallStatus(wanted)
    if new not in CALL_TRANSITIONS[cur]:
        raise ForbiddenTransition("follow-up call", cur, new)
    return new


def transition(
    work: Work, call: FollowUpCall, wanted: CallStatus, *, actor: str = "system", data: dict[str, Any] | None = None
) -> FollowUpCall:
    """The one way a call changes status: checked against the table, stamped, on the case timeline."""
    new = check_call_transition(call.status, wanted)
    call.status, call.status_at = new.value, work.now
    work.session.add(call)
    record_event(work, call.case_id, "follow_up_call", actor,
                 {"call_status": new.value, "placed_by": call.placed_by, **(data or {})})  # fmt: skip
    return call


@dataclass(frozen=True)
class CallStart:
    """What placing a call needs: the row, the number, the resident's language — or the refusal."""

    refused: str = ""  # already_recorded | call_in_progress | no_phone | unknown_task
    call_id: int = 0
    phone: str = ""
    lang: str = DEFAULT_LANGUAGE


def called_resident(work: Work, task: FollowUp, case: Case) -> Resident | None:
    """Whom the 回访 call rings: for a low rating, the reporter who gave it — a neighbour whose report
    joined the case may have, and the one who opened it may be satisfied; else who opened the case
    (every reporter was asked 解决了吗 and reminded in writing: one call per case)."""
    resident_id = case.resident_id
    rated = case_events.latest_event(work.session, case.id or 0, "rated") if task.reason == "low_rating" else None
    kind, _, number = (rated.actor if rated else "").partition(":")
    if kind == "resident" and number.isdigit():
        resident_id = int(number)
    return work.session.get(Resident, resident_id) if resident_id else None


def start_call(work: Work, follow_up_id: int, actor: str) -> CallStart:
    """Write the call's row (``placing``) if the task is open, has no call going and a number to ring."""
    task = work.session.get(FollowUp, follow_up_id)
    case = work.session.get(Case, task.case_id) if task else None
    if task is None or case is None:
        return CallStart("unknown_task")
    if task.called_at is not None:
        return CallStart("already_recorded")
    if store.in_progress(work.session, follow_up_id, [s.value for s in IN_PROGRESS]) is not None:
        return CallStart("call_in_progress")
    resident = called_resident(work, task, case)
    if resident is None or not resident.phone:
        return CallStart("no_phone")
    call = store.add(work.session, FollowUpCall(
        follow_up_id=follow_up_id, case_id=case.id or 0, status=CallStatus.PLACING.value, placed_by=actor,
        placed_at=work.now, status_at=work.now,
    ))  # fmt: skip
    record_event(work, case.id, "follow_up_call", actor, {"call_status": CallStatus.PLACING.value, "placed_by": actor})
    publish_case(work, case)
    return CallStart(call_id=call.id or 0, phone=resident.phone, lang=resident.lang)


def call_placed(work: Work, call_id: int, call_sid: str | None, error: str | None) -> None:
    """Twilio's answer to the REST call: ringing with its CallSid, or failed with the reason."""
    call = store.get(work.session, call_id)
    if call is None:
        return
    if call_sid:
        call.call_sid = call_sid
        transition(work, call, CallStatus.RINGING)
    else:
        call.error = (error or "")[:500]
        transition(work, call, CallStatus.FAILED, data={"error": call.error})


def progress(work: Work, call_id: int, call_sid: str, twilio_status: str, *, machine: bool = False) -> None:
    """A status callback (or the answer webhook): move the call along; stale or repeated ones do nothing."""
    call = store.get(work.session, call_id)
    if call is None or (call.call_sid and call.call_sid != call_sid):
        return
    status = CallStatus(call.status)
    if machine and status in (CallStatus.RINGING, CallStatus.ANSWERED):
        transition(work, call, CallStatus.UNREACHABLE, data={"twilio": "machine"})
    elif twilio_status == "in-progress" and status == CallStatus.RINGING:
        transition(work, call, CallStatus.ANSWERED)
    elif status == CallStatus.RINGING and (twilio_status in NOT_REACHED or twilio_status == "completed"):
        transition(work, call, CallStatus.UNREACHABLE, data={"twilio": twilio_status})
    elif twilio_status == "completed" and status == CallStatus.ANSWERED:
        transition(work, call, CallStatus.NO_KEY)


@dataclass(frozen=True)
class Script:
    """What the call says about the case (the channel renders it with the catalogue)."""

    ref: str
    category: str
    grid: str
    status: str  # the call's status: only an answered call asks anything


def script(work: Work, call_id: int, call_sid: str) -> Script | None:
    """The case the call is about, or None if this call is not (or no longer) the one asking."""
    call = store.get(work.session, call_id)
    if call is None or (call.call_sid and call.call_sid != call_sid):
        return None
    case = work.session.get(Case, call.case_id)
    if case is None:
        return None
    grid = directory.grid(work.session, case.grid_code)
    return Script(ref=case.ref, category=case.category, grid=grid.name if grid else "", status=call.status)


def _record_task(work: Work, call: FollowUpCall, outcome: str, rating: int | None) -> None:
    task = work.session.get(FollowUp, call.follow_up_id)
    if task is None:
        return
    if task.called_at is None:
        task.called_at, task.called_by, task.outcome = work.now, call.placed_by, outcome
        work.session.add(task)
    record_event(work, call.case_id, "follow_up_called", call.placed_by,
                 {"outcome": outcome, "rating": rating, "by": "voice_call"})  # fmt: skip


def answered_solved(work: Work, call_id: int, call_sid: str) -> bool:
    """Key 1: solved. A resolved case is confirmed by the resident (the rating question follows)."""
    call = store.get(work.session, call_id)
    if call is None or call.call_sid != call_sid or call.status != CallStatus.ANSWERED:
        return False
    transition(work, call, CallStatus.CONFIRMED, actor=call.placed_by, data={"digits": "1"})
    case = work.session.get(Case, call.case_id)
    if case is not None and case.status == CaseStatus.RESOLVED:
        record_event(work, case.id, "resident_confirmed", call.placed_by, {"by": "follow_up_call"})
        publish_case(work, case)
    _record_task(work, call, "satisfied", None)
    return True


def answered_not_solved(work: Work, index: GridIndex, tz: str, call_id: int, call_sid: str) -> bool:
    """Key 2: not solved. A resolved case reopens one level up (``routing.closure.not_solved``)."""
    call = store.get(work.session, call_id)
    if call is None or call.call_sid != call_sid or call.status != CallStatus.ANSWERED:
        return False
    transition(work, call, CallStatus.NOT_SOLVED, actor=call.placed_by, data={"digits": "2"})
    case = work.session.get(Case, call.case_id)
    if case is not None and case.status == CaseStatus.RESOLVED:
        closure.not_solved(work, index, tz, case, call.placed_by, None)
    _record_task(work, call, "not_solved", None)
    return True


def rated(work: Work, call_id: int, call_sid: str, rating: int) -> bool:
    """The rating key after "solved": stored on the call; a resolved case is rated and closed."""
    call = store.get(work.session, call_id)
    if call is None or call.call_sid != call_sid or call.status != CallStatus.CONFIRMED or not 1 <= rating <= 5:
        return False
    call.rating = rating
    transition(work, call, CallStatus.SATISFIED, actor=call.placed_by, data={"rating": rating})
    case = work.session.get(Case, call.case_id)
    if case is not None:
        # A low rating given on a follow-up call does not ask for another follow-up call.
        rate_case(work, case, rating, actor=call.placed_by, low_rating=0)
    record_event(work, call.case_id, "follow_up_called", call.placed_by,
                 {"outcome": "satisfied", "rating": rating, "by": "voice_call"})  # fmt: skip
    return True


def handled_by(work: Work, follow_up_id: int) -> list[int]:
    task = work.session.get(FollowUp, follow_up_id)
    return list(task.handled_by or []) if task else []


def staff_name(work: Work, staff_id: int | None) -> str:
    staff = work.session.get(Staff, staff_id) if staff_id else None
    return staff.name if staff else ""
