"""The durable stages of a check-in's silence: each ``CheckInStep`` is claimed by one conditional
UPDATE and run in one transaction — ask, retry, helper, on-duty leader, family, close — and missed
cycles in a row open an urgent case at the household's address (``open_checkin_case``)."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from gridline.domain.explanations import Reason, because
from gridline.domain.lifecycle import STEP, StepStatus
from gridline.i18n import DEFAULT_LANGUAGE, t
from gridline.i18n.phrases import Phrase
from gridline.kernel.messages import Option
from gridline.kernel.outbox import queue_message
from gridline.kernel.work import Work, in_transaction
from gridline.routing.cases import CaseDraft, open_case
from gridline.routing.checkin_questions import (
    CHANNELS,
    WORKER_ID,
    ask_question,
    ask_text,
    choice_data,
    member_name,
    publish_checkin,
    question_identity,
    window_from,
)
from gridline.routing.checkin_states import OPEN_STATUSES, CheckInStatus, transition
from gridline.routing.rota import who_is_on_duty
from gridline.settings import Settings
from gridline.storage import checkins as store
from gridline.storage import directory, people
from gridline.storage.models import ChannelIdentity, CheckIn, Household, HouseholdPerson, Staff
from gridline.storage.pacing import MessageKind

if TYPE_CHECKING:
    from gridline.kernel.services import Services


def requeue_due_steps(work: Work, lease_seconds: float, limit: int = 2000) -> int:
    """The reconciler's safety net: steps whose worker vanished go back to pending after the lease,
    and every pending step that is due (of any age) is queued again; its claim makes it run once."""
    store.release_lapsed_steps(work.session, before=work.now - timedelta(seconds=lease_seconds))
    due = store.due_step_ids(work.session, horizon=work.now, limit=limit)
    for step_id in due:
        work.job("run_checkin_step", f"chkstep:{step_id}", None, step_id=step_id)
    return len(due)


def stages_of(settings: Settings, checkin: CheckIn) -> list[str]:
    if checkin.kind == "sweep":
        return ["close"]
    return ["ask", *settings.checkins.chain, "close"]


def schedule_next(work: Work, settings: Settings, checkin: CheckIn, stage: str, *, reached: int) -> None:
    """The stage after ``stage``: an answer window later (counted from when a paced question leaves,
    ``reached`` > 1 being the seconds it waits in its lane), at once when ``stage`` reached nobody."""
    stages = stages_of(settings, checkin)
    if stage not in stages or stage == stages[-1]:
        return
    nxt = stages[stages.index(stage) + 1]
    wait = timedelta(minutes=settings.checkins.answer_window_minutes) if reached else timedelta(0)
    if reached > 1:
        wait += timedelta(seconds=reached - 1)
    step = store.add_step(work.session, checkin.id or 0, nxt, work.now + wait)
    work.job("run_checkin_step", f"chkstep:{step.id}", step.due_at, step_id=step.id)


async def run_checkin_step(services: Services, step_id: int) -> str:
    return await in_transaction(services, run_step, services.settings, step_id)


def run_step(work: Work, settings: Settings, step_id: int) -> str:
    """Claim the step and do all of it (the message, the status, the next step) in this transaction."""
    step = store.claim_step(work.session, step_id, now=work.now, worker=WORKER_ID)
    if step is None:
        return "not claimed"
    step.done_at = work.now
    checkin = store.get(work.session, step.checkin_id, fresh=True)
    assert checkin is not None
    if CheckInStatus(checkin.status) not in OPEN_STATUSES:
        STEP.move(step, StepStatus.CANCELLED, work.now)
        step.outcome = f"check-in {checkin.status}"
        return step.outcome
    household = store.household_of(work.session, checkin.household_id)
    assert household is not None
    person = store.person_of(work.session, checkin.person_id)
    if household.removed_at is not None:
        transition(work, checkin, CheckInStatus.CANCELLED, data={"why": "household removed"})
        STEP.move(step, StepStatus.DONE, work.now)
        step.outcome = "household removed"
        return step.outcome
    if person is not None and person.removed_at is not None and checkin.status == CheckInStatus.SCHEDULED:
        # Planned in the moment a roster re-import no longer listed them (the import cancels the rest).
        transition(work, checkin, CheckInStatus.CANCELLED, data={"why": "left the roster"})
        STEP.move(step, StepStatus.DONE, work.now)
        step.outcome = "left the roster"
        return step.outcome
    handler = _STAGES[step.stage]
    reached = handler(work, settings, checkin, household, person)
    STEP.move(step, StepStatus.DONE, work.now)
    step.outcome = f"{step.stage}: {'reached' if reached else 'nobody reached'}"
    schedule_next(work, settings, checkin, step.stage, reached=reached)
    publish_checkin(work, checkin)
    return step.outcome


def _stage_ask(
    work: Work, settings: Settings, checkin: CheckIn, household: Household, person: HouseholdPerson | None
) -> int:
    identity = question_identity(work, checkin, household, person)
    if identity is None:
        store.add_event(
            work.session,
            checkin.id or 0,
            at=work.now,
            kind="unreachable",
            actor="system",
            data={"channel": checkin.channel},
        )
        return 0
    sent_at = ask_question(
        work, settings, checkin, identity, household.lang, ask_text(checkin, person, again=False)
    )
    transition(work, checkin, CheckInStatus.ASKED, data={"channel": identity.channel})
    return window_from(work, sent_at)


def _stage_retry(
    work: Work, settings: Settings, checkin: CheckIn, household: Household, person: HouseholdPerson | None
) -> int:
    identity = question_identity(work, checkin, household, person)
    if checkin.status == CheckInStatus.SCHEDULED or identity is None:
        return 0
    sent_at = ask_question(
        work, settings, checkin, identity, household.lang, ask_text(checkin, person, again=True)
    )
    transition(work, checkin, CheckInStatus.RETRIED, data={"channel": identity.channel})
    return window_from(work, sent_at)


def _escalated(work: Work, checkin: CheckIn, stage: str, told: list[dict[str, object]]) -> None:
    if checkin.status != CheckInStatus.ESCALATED:
        transition(work, checkin, CheckInStatus.ESCALATED, data={"stage": stage, "told": told})
    else:
        store.add_event(
            work.session, checkin.id or 0, at=work.now, kind="told", actor="system", data={"stage": stage, "told": told}
        )


def _stage_helper(
    work: Work, settings: Settings, checkin: CheckIn, household: Household, person: HouseholdPerson | None
) -> int:
    if not household.helper_phone:
        return 0
    identity = store.identity_for(work.session, "sms", household.helper_phone, work.now)
    lang = people.lang_of(work.session, identity) or household.lang
    queue_message(
        work,
        channel="sms",
        identity=identity,
        phrase=Phrase("checkins.notify.helper", {"room": household.room_key, "name": member_name(person)}),
        lang=lang,
        options=(Option(Phrase("checkins.option.going"), choice_data(checkin.id or 0, "going")),),
        resident_id=identity.resident_id,
        kind=MessageKind.NOTICE,
    )
    _escalated(work, checkin, "helper", [{"who": "helper", "name": household.helper_name}])
    return 1


def _staff_identity(work: Work, staff: Staff) -> ChannelIdentity | None:
    """A staff member's first contact method that can carry a message (Telegram or a phone)."""
    for method in directory.contact_methods(work.session, staff.id or 0):
        if method.unreachable:
            continue
        if method.channel == "telegram" and method.target:
            return store.identity_for(
                work.session, "telegram", method.target, work.now, bot_name=method.bot_name, staff_id=staff.id
            )
        if method.channel in ("sms", "voice") and (method.target or staff.phone):
            return store.identity_for(
                work.session, "sms", method.target or staff.phone or "", work.now, staff_id=staff.id
            )
    return None


def _stage_leader(
    work: Work, settings: Settings, checkin: CheckIn, household: Household, person: HouseholdPerson | None
) -> int:
    on_duty = who_is_on_duty(work.session, household.grid_code, work.now, settings.timezone, role="primary")
    if not on_duty:
        leader = people.grid_leader(work.session, household.grid_code)
        on_duty = [leader] if leader is not None else []
    grid = directory.grid(work.session, household.grid_code)
    told: list[dict[str, object]] = []
    for staff in on_duty:
        identity = _staff_identity(work, staff)
        if identity is None:
            continue
        notice = Phrase("checkins.notify.leader", {
            "grid": grid.name if grid else household.grid_code,
            "room": household.room_key,
            "name": member_name(person),
            "asked": len(checkin.message_ids),
            "helper": household.helper_name or Phrase("checkins.notify.no_helper"),
        })  # fmt: skip
        queue_message(
            work,
            channel=identity.channel,
            identity=identity,
            phrase=notice,
            lang=staff.lang,
            staff_id=staff.id,
            kind=MessageKind.NOTICE,
        )
        told.append({"who": "on_duty_leader", "staff": staff.code, "name": staff.name, "channel": identity.channel})
    if told:
        _escalated(work, checkin, "on_duty_leader", told)
    return 1 if told else 0


def _stage_family(
    work: Work, settings: Settings, checkin: CheckIn, household: Household, person: HouseholdPerson | None
) -> int:
    if not household.consent_family:
        return 0
    told: list[dict[str, object]] = []
    for relative in store.family_of(work.session, household.id or 0):
        if not relative.phone:
            continue
        identity = store.identity_for(work.session, "sms", relative.phone, work.now)
        lang = people.lang_of(work.session, identity) or household.lang
        queue_message(
            work,
            channel="sms",
            identity=identity,
            phrase=Phrase("checkins.notify.family", {"name": member_name(person), "room": household.room_key}),
            lang=lang,
            resident_id=identity.resident_id,
            kind=MessageKind.NOTICE,
        )
        told.append({"who": "family", "name": relative.name, "relation": relative.relation})
    if told:
        _escalated(work, checkin, "family", told)
    return 1 if told else 0


def _stage_close(
    work: Work, settings: Settings, checkin: CheckIn, household: Household, person: HouseholdPerson | None
) -> int:
    transition(work, checkin, CheckInStatus.MISSED)
    if checkin.kind == "sweep":
        from gridline.routing.sweeps import visit_due_today

        visit_due_today(work, settings, checkin, household)
        return 1
    missed = _missed_in_a_row(work, checkin)
    if missed >= settings.checkins.missed_cycles_for_case and checkin.case_id is None:
        open_checkin_case(work, settings, checkin, household, person, "missed", cycles=missed)
    return 1


def _missed_in_a_row(work: Work, checkin: CheckIn) -> int:
    """How many of the member's daily cycles, ending with this one, closed in silence."""
    count, current = 1, checkin
    while current.person_id is not None:
        previous = store.previous_daily(work.session, current.person_id, current.cycle)
        if previous is None or previous.status != CheckInStatus.MISSED:
            break
        count, current = count + 1, previous
        if count >= 30:
            break
    return count


_STAGES = {
    "ask": _stage_ask,
    "retry": _stage_retry,
    "helper": _stage_helper,
    "on_duty_leader": _stage_leader,
    "family": _stage_family,
    "close": _stage_close,
}


def open_checkin_case(
    work: Work,
    settings: Settings,
    checkin: CheckIn,
    household: Household,
    person: HouseholdPerson | None,
    why: str,
    *,
    cycles: int = 0,
    reason: str = "",
) -> int:
    """An urgent case at the household's address (its grid's policy pages the leader on duty)."""
    room, name = household.room_key, member_name(person)
    if why == "help" and checkin.kind == "sweep":
        summary = t("checkins.case.sweep_help", DEFAULT_LANGUAGE, reason=reason, room=room, name=name)
    elif why == "help":
        summary = t("checkins.case.help", DEFAULT_LANGUAGE, room=room, name=name)
    else:
        summary = t("checkins.case.missed", DEFAULT_LANGUAGE, room=room, name=name, cycles=cycles)
    address = " ".join(p for p in (household.address_text or "", room) if p)
    draft = CaseDraft(
        category=settings.checkins.case_category, priority="urgent", grid_code=household.grid_code, summary=summary,
        channel=checkin.channel if checkin.channel in CHANNELS else "sms", resident_id=checkin.resident_id,
        address_text=address or None,
        explanation=[
            {**because("category", Reason.CHECKIN_CASE, checkin=checkin.id, kind=checkin.kind, why=why),
             "category": settings.checkins.case_category},
            {**(because("priority", Reason.ASKED_FOR_HELP) if why == "help"
                else because("priority", Reason.SILENT_CYCLES, cycles=cycles)), "priority": "urgent"},
            {**because("grid", Reason.ROSTER_HOUSEHOLD, room=room), "grid": household.grid_code},
        ],
    )  # fmt: skip
    case = open_case(work, settings, draft)
    checkin.case_id = case.id
    store.add_event(
        work.session,
        checkin.id or 0,
        at=work.now,
        kind="case_opened",
        actor="system",
        data={"case_id": case.id, "ref": case.ref, "why": why},
    )
    return case.id or 0
