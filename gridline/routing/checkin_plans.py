"""Planning 平安守护 check-ins: today's and tomorrow's for every opted-in member at their local time and
days (unique per member and day, so planning twice is harmless), and re-planning after an opt-in change."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from gridline.kernel.work import Work
from gridline.routing.checkin_states import CheckInStatus, transition
from gridline.settings import Settings
from gridline.storage import checkins as store
from gridline.storage.models import CheckIn, HouseholdPerson


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


def replan_member(
    work: Work, settings: Settings, person: HouseholdPerson, *, consent: bool = True, why: str = "opt-in changed"
) -> int:
    """A member's opt-in changed: their check-ins not asked yet follow it (or are cancelled when they
    opted out, their household withdrew its ``consent``, or they left the roster: ``person.removed_at``);
    returns how many changed. The next ones are planned by ``plan`` as usual. A check-in already asked
    runs its course (an answer still counts, silence still reaches the helper and the leader)."""
    changed = 0
    for checkin in store.cancel_open_of_person(work.session, person.id or 0, now=work.now):
        pending = [s for s in store.steps_of(work.session, checkin.id or 0) if s.status == "pending"]
        day = date.fromisoformat(checkin.cycle)
        allowed = not person.checkin_days or day.isoweekday() in person.checkin_days
        if person.checkin_channel is None or not allowed or not consent or person.removed_at is not None:
            store.cancel_pending_steps(work.session, checkin.id or 0, now=work.now, outcome=why)
            transition(work, checkin, CheckInStatus.CANCELLED, data={"why": why})
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
