"""What is owed: the daily digest (SMS / Telegram, paced as bulk), ``/visits``, the staff inbox and a
household's page in the console; and the engine's once-a-minute ``sweep`` (lost timers re-queued,
new households planned, the day's digests)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlmodel import Session

from gridline.domain.lifecycle import StaffRole
from gridline.i18n.phrases import Phrase
from gridline.i18n.phrases import lines as lines_of
from gridline.kernel.messages import Option
from gridline.kernel.work import Work, in_transaction
from gridline.routing.visit_escalation import household_history, household_tags, log_options, tell_staff
from gridline.routing.visit_plans import local_time, plan_visits
from gridline.settings import Settings
from gridline.storage import directory
from gridline.storage import visits as store
from gridline.storage.models import Household, Staff, Visit
from gridline.storage.pacing import MessageKind

if TYPE_CHECKING:
    from gridline.kernel.services import Services


def owed_text(settings: Settings, owed: list[tuple[Visit, Household]], lang: str, now: datetime) -> Phrase:
    """The list of visits owed, one line each, with how to log them."""
    lines = [Phrase("visits.digest.title", {"count": len(owed)})]
    for visit, household in owed:
        key = "visits.digest.overdue" if visit.due_at <= now else "visits.digest.due"
        lines.append(Phrase(key, {"room": household.room_key, "tags": household_tags(settings, household, lang),
                                  "due": local_time(settings, visit.due_at)}))  # fmt: skip
    lines.append(Phrase("visits.digest.how", {"room": owed[0][1].room_key if owed else "3-2-501"}))
    return lines_of(lines)


def send_digests(work: Work, settings: Settings) -> int:
    """Once a day after ``visits.digest_time``: each person who owes visits gets the list; returns how many."""
    if not settings.visits.digest_time:
        return 0
    tz = ZoneInfo(settings.timezone)
    local = work.now.astimezone(tz)
    if local.strftime("%H:%M") < settings.visits.digest_time:
        return 0
    day = local.strftime("%Y-%m-%d")
    until = work.now + timedelta(days=settings.visits.digest_days_ahead)
    sent = 0
    recipients = set(store.staff_owing(work.session, until=until))
    for grid_code in store.grids_owing(work.session, until=until):
        recipients.update(s.id for s in directory.active_staff_in_grid(work.session, StaffRole.LEADER.value, grid_code)
                          if s.id is not None)
    for staff_id in sorted(recipients):
        if store.digest_sent(work.session, staff_id, day):
            continue
        staff = work.session.get(Staff, staff_id)
        if staff is None or not staff.active:
            continue
        owed = owed_for(work.session, staff, until)
        if not owed:
            continue
        options = tuple(o for visit, household in owed[:10] for o in log_options(visit, household))
        channel = tell_staff(
            work, staff, owed_text(settings, owed, staff.lang, work.now), options, kind=MessageKind.VISIT,
            settings=settings,
        )
        store.record_digest(work.session, staff_id, day, at=work.now, count=len(owed), channel=channel)
        sent += 1
    return sent


def sweep(work: Work, settings: Settings, limit: int = 2000) -> int:
    """The day-scale part of the reconciler (once a minute): the safety net for visit timers (a
    job for every visit whose timer is due but whose job was lost), new households' visits planned,
    the day's digests. ``visits.enabled = false`` turns all of it off."""
    if not settings.visits.enabled:
        return 0
    return requeue_due(work, work.now, limit) + plan_visits(work, settings) + send_digests(work, settings)


def requeue_due(work: Work, horizon: datetime, limit: int) -> int:
    """The safety net: a job for every visit whose timer is due (a claimed one runs once)."""
    ids = store.due_timers(work.session, horizon, limit)
    for visit_id in ids:
        work.job("run_visit_timer", f"visit:{visit_id}:due", None, visit_id=visit_id)
    return len(ids)



@dataclass(frozen=True)
class OwedList:
    text: Phrase
    options: tuple[Option, ...]
    lang: str
    count: int


async def owed_list(services: Services, staff_id: int) -> OwedList:
    """What a staff member owes (due within ``visits.digest_days_ahead`` days, or overdue), with buttons."""
    return await in_transaction(services, _owed_list, staff_id, services.settings)


def _owed_list(work: Work, staff_id: int, settings: Settings) -> OwedList:
    staff = work.session.get(Staff, staff_id)
    lang = staff.lang if staff else settings.default_language
    until = work.now + timedelta(days=settings.visits.digest_days_ahead)
    owed = owed_for(work.session, staff, until) if staff else []
    options = tuple(o for visit, household in owed[:10] for o in log_options(visit, household))
    return OwedList(owed_text(settings, owed, lang, work.now), options, lang, len(owed))


def owed_for(session: Session, staff: Staff, until: datetime) -> list[tuple[Visit, Household]]:
    """What a person sees as owed: a member their own visits; a leader every visit of their grid."""
    if staff.role == StaffRole.LEADER and staff.grid_code:
        return store.owed_in_grids(session, [staff.grid_code], until=until)
    return store.owed_by_staff(session, staff.id or 0, until=until)



@dataclass(frozen=True)
class HouseholdVisits:
    """A household's page: the visit owed (if any), the latest visits, open 主动发现 cases."""

    owed: Visit | None
    past: list[Visit]
    open_cases: list[str]
    owner: str | None


def household_visits(session: Session, household: Household) -> HouseholdVisits:
    owed = store.open_for_household(session, household.id or 0)
    past = [v for v in store.history(session, household.id or 0, limit=11) if owed is None or v.id != owed.id][:10]
    owner = session.get(Staff, owed.staff_id) if owed is not None and owed.staff_id else None
    return HouseholdVisits(owed, past, household_history(session, household).open_cases, owner.name if owner else None)


def owed_for_inbox(session: Session, staff_id: int, settings: Settings, now: datetime) -> list[tuple[Visit, Household]]:
    """The visits a staff member's inbox lists (as the Telegram list: due within a few days, or overdue)."""
    staff = session.get(Staff, staff_id)
    if staff is None:
        return []
    return owed_for(session, staff, now + timedelta(days=settings.visits.digest_days_ahead))
