"""平安守护: daily (or chosen-day) check-ins whose silence escalates, and the answers to them.

A member who opted in (docs/checkins.md) gets a ``CheckIn`` per local day it is due, planned a day
ahead by the reconciler's sweep (``plan``), each with its first ``CheckInStep`` (``ask``) at their
local time. Steps are durable timers: a job runs each one (``run_checkin_step``), claiming the row
by a conditional UPDATE, and does all of it in one transaction — the question (an outbound message
row, so delivery is durable and never twice), the next step, the status (``checkin_states``).

Silence: ``ask`` → window → ``retry`` → window → ``helper`` → ``on_duty_leader`` → ``family`` →
``close`` (``checkins.chain``); a stage that reaches nobody runs the next at once. A cycle that
closes in silence is ``missed``; ``checkins.missed_cycles_for_case`` missed in a row open an urgent
case at the household's address. "2 需要帮助" opens one at once; "1" closes the check-in.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from gridline.domain.explanations import Reason, because
from gridline.domain.lifecycle import STEP, StepStatus
from gridline.i18n import DEFAULT_LANGUAGE, has, t
from gridline.kernel.messages import Option
from gridline.kernel.outbox import message_lane, queue_message
from gridline.kernel.work import Work, in_transaction
from gridline.routing.cases import CaseDraft, open_case
from gridline.routing.checkin_states import ANSWERABLE, OPEN_STATUSES, CheckInStatus, transition
from gridline.routing.rota import who_is_on_duty
from gridline.settings import Settings
from gridline.storage import checkins as store
from gridline.storage import directory, pacing, people
from gridline.storage.models import ChannelIdentity, CheckIn, Household, HouseholdPerson, Staff
from gridline.storage.pacing import MessageKind

if TYPE_CHECKING:
    from gridline.kernel.services import Services

WORKER_ID = f"{socket.gethostname()}:{os.getpid()}"
CHANNELS = ("sms", "voice", "telegram")
ANSWERS = ("ok", "help", "going")
# Check-in answers travel as option data "chk:<id>:<answer>" (Telegram buttons, SMS numbers, keys).
CHOICE_PREFIX = "chk:"


def choice_data(checkin_id: int, answer: str) -> str:
    return f"{CHOICE_PREFIX}{checkin_id}:{answer}"


def parse_choice(data: str) -> tuple[int, str] | None:
    parts = data.split(":")
    if len(parts) != 3 or parts[0] + ":" != CHOICE_PREFIX or not parts[1].isdigit() or parts[2] not in ANSWERS:
        return None
    return int(parts[1]), parts[2]


def reason_label(settings: Settings, code: str, lang: str) -> str:
    custom = settings.checkins.custom_reasons.get(code)
    if custom:
        return custom.get(lang) or next(iter(custom.values()), code)
    key = f"checkins.reason.{code}"
    return t(key, lang) if has(key) else code


def known_reasons(settings: Settings) -> list[str]:
    return [
        *settings.checkins.sweep_reasons,
        *(c for c in settings.checkins.custom_reasons if c not in settings.checkins.sweep_reasons),
    ]


# --- planning -------------------------------------------------------------------------------


def parse_time(value: str) -> time | None:
    parts = value.strip().split(":")
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        return None
    hour, minute = int(parts[0]), int(parts[1])
    return time(hour, minute) if 0 <= hour < 24 and 0 <= minute < 60 else None


def local_due(settings: Settings, day: date, at: str | None) -> datetime:
    wanted = parse_time(at or "") or parse_time(settings.checkins.default_time) or time(9, 0)
    return datetime.combine(day, wanted, tzinfo=ZoneInfo(settings.timezone)).astimezone(ZoneInfo("UTC"))


def plan(work: Work, settings: Settings) -> int:
    """Create today's and tomorrow's check-ins of every opted-in member (once: the cycle is unique).

    Today's is planned only while its time has not passed by more than an answer window (a member who
    opts in at 20:00 for 09:00 is first asked tomorrow); tomorrow's is planned a day ahead, so an outage
    shorter than a day loses no check-in — its step is overdue and runs once when the workers are back.
    """
    tz = ZoneInfo(settings.timezone)
    today = work.now.astimezone(tz).date()
    days = (today, today + timedelta(days=1))
    members = store.opted_in_members(work.session)
    if not members:
        return 0
    cycles = [d.isoformat() for d in days]
    existing = store.planned_cycles(work.session, [p.id or 0 for _, p in members], cycles)
    window = timedelta(minutes=settings.checkins.answer_window_minutes)
    created = 0
    for household, person in members:
        channel = person.checkin_channel or "sms"
        for day in days:
            if (person.id or 0, day.isoformat()) in existing:
                continue
            if person.checkin_days and day.isoweekday() not in person.checkin_days:
                continue
            due = local_due(settings, day, person.checkin_time)
            if day == today and due < work.now - window:
                continue
            checkin = CheckIn(
                kind="daily",
                household_id=household.id or 0,
                person_id=person.id,
                resident_id=person.resident_id,
                grid_code=household.grid_code,
                channel=channel,
                cycle=day.isoformat(),
                status=CheckInStatus.SCHEDULED.value,
                due_at=due,
                created_at=work.now,
                updated_at=work.now,
            )
            step = store.add_planned(work.session, checkin, "ask")
            if step is not None:
                work.job("run_checkin_step", f"chkstep:{step.id}", step.due_at, step_id=step.id)
                created += 1
    return created


def replan_member(work: Work, settings: Settings, person: HouseholdPerson) -> int:
    """A member's opt-in changed: their check-ins not asked yet follow it (or are cancelled when they
    opted out); returns how many changed. The next ones are planned by ``plan`` as usual."""
    changed = 0
    for checkin in store.cancel_open_of_person(work.session, person.id or 0, now=work.now):
        pending = [s for s in store.steps_of(work.session, checkin.id or 0) if s.status == "pending"]
        day = date.fromisoformat(checkin.cycle)
        allowed = not person.checkin_days or day.isoweekday() in person.checkin_days
        if person.checkin_channel is None or not allowed:
            store.cancel_pending_steps(work.session, checkin.id or 0, now=work.now, outcome="opt-in changed")
            transition(work, checkin, CheckInStatus.CANCELLED, data={"why": "opt-in changed"})
        else:
            checkin.channel = person.checkin_channel
            checkin.due_at = checkin.updated_at = local_due(settings, day, person.checkin_time)
            for step in pending:
                step.due_at = checkin.due_at
                work.job(
                    "run_checkin_step", f"chkstep:{step.id}:{checkin.due_at.isoformat()}", step.due_at, step_id=step.id
                )
        changed += 1
    return changed


# --- running steps --------------------------------------------------------------------------


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


def _window_from(work: Work, sent_at: datetime) -> int:
    """A stage's result for ``schedule_next``: 1 (reached), plus the seconds its question waits to leave."""
    return 1 + max(0, int((sent_at - work.now).total_seconds()))


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
    handler = _STAGES[step.stage]
    reached = handler(work, settings, checkin, household, person)
    STEP.move(step, StepStatus.DONE, work.now)
    step.outcome = f"{step.stage}: {'reached' if reached else 'nobody reached'}"
    schedule_next(work, settings, checkin, step.stage, reached=reached)
    publish_checkin(work, checkin)
    return step.outcome


def _name(person: HouseholdPerson | None) -> str:
    return person.name if person is not None else ""


def question_options(checkin_id: int, lang: str, *, sweep: bool = False) -> tuple[Option, ...]:
    """报平安 / 需要帮助 (a sweep: 平安 / 需要帮助), answering as ``chk:<id>:ok|help``."""
    return (
        Option(t("checkins.option.safe" if sweep else "checkins.option.ok", lang), choice_data(checkin_id, "ok")),
        Option(t("checkins.option.help", lang), choice_data(checkin_id, "help")),
    )


def question_identity(
    work: Work, checkin: CheckIn, household: Household, person: HouseholdPerson | None
) -> ChannelIdentity | None:
    """Where the member is asked: their chosen channel (Telegram needs an account they wrote from)."""
    if person is None:
        return None
    session, now = work.session, work.now
    resident_id = store.resident_for_member(session, household, person, now)
    checkin.resident_id = resident_id
    if checkin.channel == "telegram" and resident_id is not None:
        for identity in people.reachable_identities(session, resident_id):
            if identity.channel == "telegram":
                return identity
    if not person.phone:
        return None
    channel = "voice" if checkin.channel == "voice" else "sms"
    identity = store.identity_for(session, channel, person.phone, now, resident_id=resident_id)
    return None if identity.unreachable else identity


def question_lane(settings: Settings, identity: ChannelIdentity) -> str:
    """The sender lane a question leaves by: a call from the voice number, else the channel's own."""
    if identity.channel == "voice":
        return pacing.lane_of("call", "", settings.twilio.sms_number, settings.twilio.voice_number)
    return message_lane(settings, identity.channel, identity)


def ask_question(
    work: Work, settings: Settings, checkin: CheckIn, identity: ChannelIdentity, lang: str, text: str
) -> datetime:
    """Queue the question (a paced ``checkin`` message: many fall due at 09:00); returns its send time."""
    message = queue_message(
        work, channel=identity.channel, identity=identity, text=text, lang=lang,
        options=question_options(checkin.id or 0, lang), resident_id=checkin.resident_id,
        kind=MessageKind.CHECKIN, settings=settings, lane=question_lane(settings, identity),
    )  # fmt: skip
    checkin.identity_id = identity.id
    checkin.message_ids = [*checkin.message_ids, message.id or 0]
    return max(message.next_attempt_at or work.now, work.now)


def _ask_text(checkin: CheckIn, person: HouseholdPerson | None, lang: str, *, again: bool) -> str:
    name = _name(person)
    if again:
        return t("checkins.ask.again", lang, name=name)
    return t(f"checkins.ask.{checkin.channel if checkin.channel in CHANNELS else 'sms'}", lang, name=name)


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
        work, settings, checkin, identity, household.lang, _ask_text(checkin, person, household.lang, again=False)
    )
    transition(work, checkin, CheckInStatus.ASKED, data={"channel": identity.channel})
    return _window_from(work, sent_at)


def _stage_retry(
    work: Work, settings: Settings, checkin: CheckIn, household: Household, person: HouseholdPerson | None
) -> int:
    identity = question_identity(work, checkin, household, person)
    if checkin.status == CheckInStatus.SCHEDULED or identity is None:
        return 0
    sent_at = ask_question(
        work, settings, checkin, identity, household.lang, _ask_text(checkin, person, household.lang, again=True)
    )
    transition(work, checkin, CheckInStatus.RETRIED, data={"channel": identity.channel})
    return _window_from(work, sent_at)


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
    text = t("checkins.notify.helper", lang, room=household.room_key, name=_name(person))
    queue_message(
        work,
        channel="sms",
        identity=identity,
        text=text,
        lang=lang,
        options=(Option(t("checkins.option.going", lang), choice_data(checkin.id or 0, "going")),),
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
        text = t(
            "checkins.notify.leader",
            staff.lang,
            grid=grid.name if grid else household.grid_code,
            room=household.room_key,
            name=_name(person),
            asked=len(checkin.message_ids),
            helper=household.helper_name or t("checkins.notify.no_helper", staff.lang),
        )
        queue_message(
            work,
            channel=identity.channel,
            identity=identity,
            text=text,
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
        text = t("checkins.notify.family", lang, name=_name(person), room=household.room_key)
        queue_message(
            work,
            channel="sms",
            identity=identity,
            text=text,
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
    room, name = household.room_key, _name(person)
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


# --- answers --------------------------------------------------------------------------------


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
        sweep = store.get_sweep(work.session, checkin.sweep_id)
        reason = reason_label(settings, sweep.reason, DEFAULT_LANGUAGE) if sweep else ""
    if checkin.case_id is None:
        open_checkin_case(work, settings, checkin, household, person, "help", reason=reason)
    case_id = checkin.case_id
    from gridline.storage import cases

    case = cases.get(work.session, case_id) if case_id else None
    publish_checkin(work, checkin)
    return Answered("checkins.reply.help", {"ref": case.ref if case else ""}, case_id, case.ref if case else None)


def publish_checkin(work: Work, checkin: CheckIn) -> None:
    """Tell live consoles (after the commit): a sweep's coverage changed, or a check-in moved."""
    work.event(
        "checkins",
        {"type": "checkin.updated", "checkin_id": checkin.id, "sweep_id": checkin.sweep_id,
         "grid_code": checkin.grid_code, "status": checkin.status},
    )  # fmt: skip


# --- measures -------------------------------------------------------------------------------


@dataclass
class CheckInMeasures:
    asked: int
    answered: int
    response_rate: float | None
    missed: int
    help: int
    # Minutes from the first silent window to a person acknowledging (the helper going, a case acknowledged).
    door_minutes: list[float]

    @property
    def median_door_minutes(self) -> float | None:
        values = sorted(self.door_minutes)
        if not values:
            return None
        middle = len(values) // 2
        return values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2


def door_minutes(checkin: CheckIn, acks: dict[int, datetime]) -> float | None:
    """Minutes from the first silent window to a person going to the door (the helper's "1", or staff
    acknowledging the case the check-in opened); None if it was never silent or nobody went yet."""
    if checkin.silent_at is None:
        return None
    silent = checkin.silent_at
    moments = [m for m in (checkin.attended_at, acks.get(checkin.case_id or 0)) if m is not None and m >= silent]
    return (min(moments) - silent).total_seconds() / 60 if moments else None


def measures(work: Work, since: datetime, grid_codes: frozenset[str] | None = None) -> CheckInMeasures:
    """Check-ins asked since ``since`` (in these grids): response rate, silence to a person at the door."""
    rows = [c for c in store.daily_since(work.session, since, grid_codes) if c.asked_at is not None]
    answered = [c for c in rows if c.answered_at is not None]
    acks = store.case_acknowledged_at(work.session, [c.case_id for c in rows if c.case_id])
    door = [m for m in (door_minutes(c, acks) for c in rows) if m is not None]
    return CheckInMeasures(
        asked=len(rows), answered=len(answered),
        response_rate=(len(answered) / len(rows)) if rows else None,
        missed=sum(1 for c in rows if c.status == CheckInStatus.MISSED),
        help=sum(1 for c in rows if c.status == CheckInStatus.HELP), door_minutes=door,
    )  # fmt: skip


async def checkin_measures(services: Services, since: datetime) -> CheckInMeasures:
    return await in_transaction(services, measures, since)
