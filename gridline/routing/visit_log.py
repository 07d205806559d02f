"""Logging a visit, from every channel through one function: ``record_visit`` (the note of a problem
classified outside the transaction) → ``log_visit`` (who may log it, the visit done, a problem made a
主动发现 case, the next visit planned), and the channels' doors: a visit text (``走访 3-2-501 正常``),
a button or key (``visit:<id>:ok|problem``)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from sqlmodel import Session

from gridline.domain.explanations import Reason, because
from gridline.i18n import t
from gridline.kernel.notify import Said, said
from gridline.kernel.work import Work, in_transaction
from gridline.routing.cases import CaseDraft, open_case
from gridline.routing.roster import RoomKey
from gridline.routing.visit_grammar import parse_visit_text
from gridline.routing.visit_plans import local_time, plan_next, schedule_visit
from gridline.routing.visit_states import EVERYONE, OPEN_VISIT_STATUSES, VisitStatus, transition
from gridline.settings import Settings
from gridline.storage import households as roster
from gridline.storage import visits as store
from gridline.storage.households import RosterScope
from gridline.storage.models import Household, Staff, Visit

if TYPE_CHECKING:
    from gridline.kernel.services import Services


# -- logging a visit ----------------------------------------------------------------------------------

Outcome = Literal["ok", "problem"]


@dataclass(frozen=True)
class VisitLogged:
    """What logging a visit came to: ``code`` and what the person who logged it is told (a catalogue
    phrase in their language; their channel words it: ``bots.page_text.said_text``)."""

    code: str  # logged | not_your_grid | unknown_room | no_grid | unknown_visit | already_done | not_staff
    said: Said
    visit_id: int | None = None
    case_ref: str | None = None
    next_due: datetime | None = None
    case_id: int | None = None

    @property
    def ok(self) -> bool:
        return self.code == "logged"


@dataclass(frozen=True)
class VisitReport:
    """A visit as the person logging it said it: a household (by room in their grid, or a visit id)."""

    outcome: Outcome
    note: str = ""
    room: RoomKey | None = None
    visit_id: int | None = None
    household_id: int | None = None
    channel: str = "sms"
    # The 主动发现 case's category (the classifier's reading of the note, decided before the transaction).
    category: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)



def log_visit(
    work: Work, settings: Settings, report: VisitReport, *, staff_id: int | None,
    actor: str | None = None, grid_scope: RosterScope | None = None, lang: str | None = None,
) -> VisitLogged:
    """Log a visit for the staff member (or a console user with ``grid_scope``); refuses clearly.

    Only staff of the household's base grid may log its visit (a console user: one whose scope
    covers the grid). Nothing is stored when the answer is a refusal.
    """
    session = work.session
    staff = session.get(Staff, staff_id) if staff_id else None
    lang = lang or (staff.lang if staff else settings.default_language)
    if staff is None and grid_scope is None:
        return VisitLogged("not_staff", said("visits.log.not_staff", lang))
    household, visit = _find(session, report, staff, grid_scope)
    if household is None:
        return _refusal(session, report, staff, lang)
    if not _may_log(staff, grid_scope, household):
        return VisitLogged("not_your_grid", said("visits.log.not_your_grid", lang, room=household.room_key))
    if visit is not None and visit.status not in OPEN_VISIT_STATUSES:
        return VisitLogged("already_done", said("visits.log.already_done", lang, room=household.room_key), visit.id)
    if visit is None:
        visit = store.open_for_household(session, household.id or 0)
    if visit is None:
        # A visit nobody asked for yet still counts: logged as owed today.
        visit = schedule_visit(work, household.id or 0, work.now, "unplanned")
        assert visit is not None
    who = actor or (f"staff:{staff.code}" if staff else "console")
    note = report.note.strip()[:2000]
    visit.done_by = staff.id if staff else None
    visit.channel, visit.outcome, visit.note = report.channel, report.outcome, note or None
    case_ref = None
    if report.outcome == "problem":
        case = _open_finding(work, settings, household, visit, staff, note, report.category)
        visit.case_id, case_ref = case.id, case.ref
    transition(
        work, visit, VisitStatus.DONE, actor=who,
        data={"outcome": report.outcome, "channel": report.channel, "note": note, "case": case_ref},
    )
    nxt = plan_next(work, settings, household, work.now)
    # The next deadline as the overdue notice will say it (a bare date read as "by the day before").
    params = {"room": household.room_key, "next": local_time(settings, nxt.due_at) if nxt else "-"}
    if case_ref:
        text = said("visits.log.problem_logged", lang, ref=case_ref, **params)
    else:
        text = said("visits.log.logged", lang, **params)
    return VisitLogged("logged", text, visit.id, case_ref, nxt.due_at if nxt else None, visit.case_id)


def _find(
    session: Session, report: VisitReport, staff: Staff | None, scope: RosterScope | None
) -> tuple[Household | None, Visit | None]:
    if report.visit_id is not None:
        visit = store.get(session, report.visit_id)
        household = roster.get(session, EVERYONE, visit.household_id) if visit else None
        return household, visit
    if report.household_id is not None:
        return roster.get(session, scope or EVERYONE, report.household_id), None
    if report.room is not None and staff is not None and staff.grid_code:
        room = report.room
        return roster.by_room(session, staff.grid_code, room.building, room.unit, room.room), None
    return None, None


def _refusal(session: Session, report: VisitReport, staff: Staff | None, lang: str) -> VisitLogged:
    if report.visit_id is not None or report.household_id is not None:
        return VisitLogged("unknown_visit", said("visits.log.unknown_visit", lang))
    if staff is None or not staff.grid_code:
        return VisitLogged("no_grid", said("visits.log.no_grid", lang))
    room = str(report.room)
    key = report.room
    if key is not None and roster.room_elsewhere(session, staff.grid_code, key.building, key.unit, key.room):
        return VisitLogged("not_your_grid", said("visits.log.not_your_grid", lang, room=room))
    return VisitLogged("unknown_room", said("visits.log.unknown_room", lang, room=room, grid=staff.grid_code))


def _may_log(staff: Staff | None, scope: RosterScope | None, household: Household) -> bool:
    if staff is not None:
        return staff.active and staff.grid_code == household.grid_code
    return scope is not None and scope.allows(household.grid_code)


def _open_finding(
    work: Work, settings: Settings, household: Household, visit: Visit, staff: Staff | None, note: str,
    category: str | None,
) -> Any:
    """A problem found on a visit: a case at the household's address and grid, flagged 主动发现."""
    address = " ".join(part for part in (household.address_text or "", household.room_key) if part)
    lang = settings.default_language
    summary = note or t("visits.finding.summary", lang, room=household.room_key)
    resident_id = next(
        (p.resident_id for p in roster.people_of(work.session, household.id or 0) if p.resident_id), None
    )
    draft = CaseDraft(
        category=category or settings.visits.finding_category,
        priority="normal",
        grid_code=household.grid_code,
        summary=summary,
        channel="visit",
        resident_id=resident_id,
        address_text=address or None,
        explanation=[
            because("proactive", Reason.FOUND_ON_VISIT, visit=visit.id, room=household.room_key,
                    by=f"{staff.name} ({staff.code})" if staff else "")
        ],
    )
    case = open_case(work, settings, draft)
    case.proactive = True
    return case



async def record_visit(
    services: Services, report: VisitReport, *, staff_id: int | None, actor: str | None = None,
    grid_scope: RosterScope | None = None, lang: str | None = None,
) -> VisitLogged:
    """Log a visit from any channel: the note of a problem is classified first (the case's category,
    outside the transaction), then :func:`log_visit` in one unit of work."""
    if report.outcome == "problem" and report.note.strip() and report.category is None:
        understood = await services.nlu.parse(report.note)
        if understood.is_issue:
            report = replace(report, category=understood.intent)
    return await in_transaction(
        services, log_visit, services.settings, report, staff_id=staff_id, actor=actor, grid_scope=grid_scope,
        lang=lang,
    )


async def answer_visit_text(services: Services, staff_id: int, text: str, channel: str) -> VisitLogged:
    """Log the visit a staff member's text describes (``走访 3-2-501 正常``), or say what is wrong with it."""
    parsed = parse_visit_text(text)
    if parsed.error is not None or parsed.room is None or parsed.outcome is None:
        lang = await in_transaction(services, _staff_lang, staff_id, services.settings)
        key = f"visits.sms.{parsed.error or 'no_room'}"
        return VisitLogged(parsed.error or "no_room", said(key, lang, room=parsed.room_text))
    report = VisitReport(outcome=parsed.outcome, note=parsed.note, room=parsed.room, channel=channel)
    return await record_visit(services, report, staff_id=staff_id)


async def answer_visit_button(services: Services, staff_id: int, data: str) -> VisitLogged:
    """Log the visit a tapped button (``visit:<id>:ok|problem``) stands for."""
    parsed = parse_button(data)
    if parsed is None:
        lang = await in_transaction(services, _staff_lang, staff_id, services.settings)
        return VisitLogged("unknown_visit", said("visits.log.unknown_visit", lang))
    visit_id, outcome = parsed
    return await record_visit(services, VisitReport(outcome, visit_id=visit_id, channel="telegram"), staff_id=staff_id)


def _staff_lang(work: Work, staff_id: int, settings: Settings) -> str:
    staff = work.session.get(Staff, staff_id)
    return staff.lang if staff else settings.default_language



def is_visit_button(data: str) -> bool:
    return parse_button(data) is not None


def parse_button(data: str) -> tuple[int, Outcome] | None:
    """``visit:<id>:ok|problem`` (the data of a log button) → (visit id, outcome)."""
    parts = data.split(":")
    if len(parts) != 3 or parts[0] != "visit" or not parts[1].isdigit() or parts[2] not in ("ok", "problem"):
        return None
    return int(parts[1]), "ok" if parts[2] == "ok" else "problem"
