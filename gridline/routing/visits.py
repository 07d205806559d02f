"""走千家: visits to households as obligations that escalate when missed.

Every household on the roster owes a visit (a ``Visit`` row) due at the next occurrence of the
strictest cadence among its tags (``visits.cadence``: RFC 5545 rules), assigned to a member of its
grid (or the leader). A visit is a durable timer: at its deadline a job claims the row with one
conditional UPDATE and, if nobody logged it, marks it missed and notifies the one who owes it; each
later step notifies the next people (leader, level-2 contact …) with the household's history, just
as a page escalates. Logging it (SMS, Telegram button, a key on a reminder call, the console)
closes it and plans the next one; a problem found on it becomes a case flagged 主动发现 (``Case.proactive``).

Other time-driven work asks for a visit with :func:`schedule_visit` (a 平安守护 sweep's "no answer").
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr
from sqlmodel import Session

from gridline.domain.explanations import Reason, because
from gridline.domain.lifecycle import OPEN_CASE_STATUSES, Lifecycle, StaffRole
from gridline.i18n import join, t
from gridline.kernel.messages import Option
from gridline.kernel.outbox import queue_message
from gridline.kernel.work import Work, in_transaction
from gridline.routing.cases import CaseDraft, open_case
from gridline.routing.directory import Directory
from gridline.routing.grids import GridIndex
from gridline.routing.roster import RoomKey, tag_code, tag_label
from gridline.routing.visit_grammar import parse_visit_text
from gridline.settings import Settings
from gridline.storage import directory, people
from gridline.storage import households as roster
from gridline.storage import visits as store
from gridline.storage.households import RosterScope
from gridline.storage.models import ChannelIdentity, Household, Staff, Visit
from gridline.storage.pacing import MessageKind

if TYPE_CHECKING:
    from gridline.kernel.services import Services

EVERYONE = RosterScope(None)
PLAN_BATCH = 500


class VisitStatus(StrEnum):
    DUE = "due"  # owed, its deadline not yet passed
    MISSED = "missed"  # the deadline passed without a visit: the one who owes it is told
    ESCALATED = "escalated"  # still not visited: the leader, then the level-2 contact, were told
    DONE = "done"  # logged (ok or a problem found)
    CANCELLED = "cancelled"  # the household left the roster


OPEN_VISIT_STATUSES = frozenset({VisitStatus.DUE, VisitStatus.MISSED, VisitStatus.ESCALATED})

VISIT_TRANSITIONS: dict[VisitStatus, frozenset[VisitStatus]] = {
    VisitStatus.DUE: frozenset({VisitStatus.MISSED, VisitStatus.DONE, VisitStatus.CANCELLED}),
    VisitStatus.MISSED: frozenset({VisitStatus.ESCALATED, VisitStatus.DONE, VisitStatus.CANCELLED}),
    # ESCALATED → ESCALATED: a further step (level 2 after the leader).
    VisitStatus.ESCALATED: frozenset({VisitStatus.ESCALATED, VisitStatus.DONE, VisitStatus.CANCELLED}),
    VisitStatus.DONE: frozenset(),
    VisitStatus.CANCELLED: frozenset(),
}

_STAMPS = {
    VisitStatus.MISSED: "missed_at",
    VisitStatus.ESCALATED: "escalated_at",
    VisitStatus.DONE: "done_at",
}


VISIT: Lifecycle[VisitStatus] = Lifecycle("visit", VisitStatus, VISIT_TRANSITIONS, stamps=_STAMPS)


def check_visit_transition(current: str, wanted: str) -> VisitStatus:
    return VISIT.check(current, wanted)


def transition(
    work: Work, visit: Visit, wanted: VisitStatus, *, actor: str = "system", data: dict[str, Any] | None = None
) -> Visit:
    """The one way a visit changes status: checked against the table (staying put is refused too,
    except a further escalation), written and stamped by ``VISIT.move``, and recorded."""
    new = VISIT.check(visit.status, wanted)
    VISIT.move(visit, new, work.now)
    if new == VisitStatus.ESCALATED:
        visit.escalated_at = work.now  # the latest step, not only the first
    if new not in OPEN_VISIT_STATUSES:
        visit.next_at = None
    store.add_event(work.session, visit.id or 0, at=work.now, kind=new.value, actor=actor, data=data or {})
    return visit


# -- cadence ------------------------------------------------------------------------------------------


def _cadence(settings: Settings) -> dict[str, str]:
    """``visits.cadence`` keyed by tag code (a key may be a tag's label: ``独居老人 = "FREQ=WEEKLY"``)."""
    out: dict[str, str] = {}
    for key, rule in settings.visits.cadence.items():
        out[key if key == "default" else (tag_code(settings, key) or key)] = rule
    return out


def next_due(settings: Settings, tags: list[str], anchor: datetime) -> tuple[datetime, str] | None:
    """When a household with ``tags`` visited (or planned) at ``anchor`` is next due, and the rule's key.

    Each applicable rule (the household's tags, and ``default``) is run from the anchor's local day;
    its first occurrence after that day, at ``visits.due_time``, is a deadline; the earliest wins.
    """
    tz = ZoneInfo(settings.timezone)
    start = anchor.astimezone(tz).replace(tzinfo=None, hour=0, minute=0, second=0, microsecond=0)
    hour, minute = (int(part) for part in settings.visits.due_time.split(":"))
    cadence = _cadence(settings)
    best: tuple[datetime, str] | None = None
    for key in [*(tags or []), "default"]:
        rule = cadence.get(key)
        if not rule:
            continue
        occurrence = _first_after(rule, start)
        if occurrence is None:
            continue
        due = occurrence.replace(hour=hour, minute=minute).replace(tzinfo=tz).astimezone(UTC)
        if best is None or due < best[0]:
            best = (due, key)
    return best


@lru_cache(maxsize=4096)
def _first_after(rule: str, start: datetime) -> datetime | None:
    """The rule's first occurrence after the (naive, local) day ``start`` — cached: a sweep plans many
    households from the same day."""
    occurrence: datetime | None = rrulestr(rule, dtstart=start, ignoretz=True).after(start)  # type: ignore[union-attr]
    return occurrence


def assignee_for(
    session: Session, household: Household, *, cache: tuple[list[Staff], list[Staff]] | None = None
) -> Staff | None:
    """Who owes the household's visits: one of its grid's members (spread by household), else the leader."""
    members, leaders = cache if cache is not None else staff_of_cache(session, household.grid_code)
    if members:
        return members[(household.id or 0) % len(members)]
    return leaders[0] if leaders else None


def staff_of_cache(session: Session, grid_code: str) -> tuple[list[Staff], list[Staff]]:
    """The grid's active members (by id) and leaders."""
    members = sorted(
        directory.active_staff_in_grid(session, StaffRole.MEMBER.value, grid_code), key=lambda s: s.id or 0
    )
    return members, directory.active_staff_in_grid(session, StaffRole.LEADER.value, grid_code)


def schedule_visit(
    work: Work, household_id: int, due_at: datetime, reason: str, *, rule: str | None = None
) -> Visit | None:
    """A visit owed to the household by ``due_at`` (None if the household is not on the roster).

    At most one visit is open per household: if one is, it is brought forward to ``due_at`` when
    that is sooner (and never pushed back), so a sweep's "no answer → visit today" never doubles a
    visit already owed.
    """
    household = roster.get(work.session, EVERYONE, household_id)
    if household is None:
        return None
    existing = store.open_for_household(work.session, household_id)
    if existing is not None:
        if existing.status == VisitStatus.DUE and due_at < existing.due_at:
            before = existing.due_at
            existing.due_at, existing.next_at, existing.updated_at = due_at, due_at, work.now
            existing.reason = reason[:32]
            store.add_event(
                work.session, existing.id or 0, at=work.now, kind="brought_forward", actor="system",
                data={"reason": reason, "from": before.isoformat(), "to": due_at.isoformat()},
            )
            _queue_timer(work, existing)
        return existing
    staff = assignee_for(work.session, household)
    visit = store.add(
        work.session,
        Visit(
            household_id=household_id,
            grid_code=household.grid_code,
            staff_id=staff.id if staff else None,
            status=VisitStatus.DUE.value,
            reason=reason[:32],
            rule=rule,
            due_at=due_at,
            next_at=due_at,
            created_at=work.now,
            updated_at=work.now,
        ),
    )
    store.add_event(
        work.session, visit.id or 0, at=work.now, kind="scheduled", actor="system",
        data={"reason": reason, "rule": rule, "due_at": due_at.isoformat(), "staff": staff.code if staff else None},
    )
    _queue_timer(work, visit)
    return visit


def _queue_timer(work: Work, visit: Visit) -> None:
    if visit.next_at is not None:
        work.job("run_visit_timer", f"visit:{visit.id}:{visit.step}", visit.next_at, visit_id=visit.id)


def plan_next(work: Work, settings: Settings, household: Household, anchor: datetime) -> Visit | None:
    due = next_due(settings, household.tags or [], anchor)
    if due is None:
        return None
    return schedule_visit(work, household.id or 0, due[0], "cadence", rule=due[1])


def plan_visits(work: Work, settings: Settings, limit: int = PLAN_BATCH) -> int:
    """A visit for every household on the roster that owes none (new households); returns how many.

    In batches (the sweep runs once a minute): the batch's last visits and each grid's members are
    read once, the new rows flushed together.
    """
    session = work.session
    households = store.unplanned_households(session, limit)
    if not households:
        return 0
    last = store.last_done_at(session, [h.id or 0 for h in households])
    staff_of: dict[str, tuple[list[Staff], list[Staff]]] = {}
    planned: list[tuple[Visit, str, Staff | None]] = []
    for household in households:
        due = next_due(settings, household.tags or [], last.get(household.id or 0, work.now))
        if due is None:
            continue
        if household.grid_code not in staff_of:
            staff_of[household.grid_code] = staff_of_cache(session, household.grid_code)
        staff = assignee_for(session, household, cache=staff_of[household.grid_code])
        visit = Visit(
            household_id=household.id or 0, grid_code=household.grid_code, staff_id=staff.id if staff else None,
            status=VisitStatus.DUE.value, reason="cadence", rule=due[1], due_at=due[0], next_at=due[0],
            created_at=work.now, updated_at=work.now,
        )  # fmt: skip
        session.add(visit)
        planned.append((visit, due[1], staff))
    session.flush()
    for visit, rule, staff in planned:
        store.add_event(
            session, visit.id or 0, at=work.now, kind="scheduled", actor="system",
            data={"reason": "cadence", "rule": rule, "due_at": visit.due_at.isoformat(),
                  "staff": staff.code if staff else None},
        )  # fmt: skip
        _queue_timer(work, visit)
    return len(planned)


# -- logging a visit ----------------------------------------------------------------------------------

Outcome = Literal["ok", "problem"]


@dataclass(frozen=True)
class VisitLogged:
    """What logging a visit came to: ``code`` and the catalogue text for the person who logged it."""

    code: str  # logged | not_your_grid | unknown_room | no_grid | unknown_visit | already_done | not_staff
    text: str
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


def _local_date(settings: Settings, at: datetime) -> str:
    return at.astimezone(ZoneInfo(settings.timezone)).strftime("%Y-%m-%d")


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
        return VisitLogged("not_staff", t("visits.log.not_staff", lang))
    household, visit = _find(session, report, staff, grid_scope)
    if household is None:
        return _refusal(session, report, staff, lang)
    if not _may_log(staff, grid_scope, household):
        return VisitLogged("not_your_grid", t("visits.log.not_your_grid", lang, room=household.room_key))
    if visit is not None and visit.status not in OPEN_VISIT_STATUSES:
        return VisitLogged("already_done", t("visits.log.already_done", lang, room=household.room_key), visit.id)
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
    params = {"room": household.room_key, "next": _local_date(settings, nxt.due_at) if nxt else "-"}
    if case_ref:
        text = t("visits.log.problem_logged", lang, ref=case_ref, **params)
    else:
        text = t("visits.log.logged", lang, **params)
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
        return VisitLogged("unknown_visit", t("visits.log.unknown_visit", lang))
    if staff is None or not staff.grid_code:
        return VisitLogged("no_grid", t("visits.log.no_grid", lang))
    room = str(report.room)
    key = report.room
    if key is not None and roster.room_elsewhere(session, staff.grid_code, key.building, key.unit, key.room):
        return VisitLogged("not_your_grid", t("visits.log.not_your_grid", lang, room=room))
    return VisitLogged("unknown_room", t("visits.log.unknown_room", lang, room=room, grid=staff.grid_code))


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


# -- a missed visit escalates -------------------------------------------------------------------------


async def run_visit_timer(services: Services, visit_id: int) -> str:
    """Run a visit's due step (its deadline, or the next escalation step); returns what happened."""
    directory_ = Directory.for_services(services)
    return await in_transaction(services, run_timer, visit_id, directory_, services.settings)


def run_timer(work: Work, visit_id: int, grids: Directory, settings: Settings) -> str:
    """Claim the visit's timer and do its step in this transaction (see the module docstring)."""
    visit = store.claim(work.session, visit_id, now=work.now)
    if visit is None:
        return "not claimed"
    if visit.status not in OPEN_VISIT_STATUSES:
        return f"visit {visit.status}"
    steps = settings.visits.escalation
    if visit.step >= len(steps):
        return "exhausted"
    household = roster.get(work.session, EVERYONE, visit.household_id)
    if household is None:
        transition(work, visit, VisitStatus.CANCELLED, data={"why": "household left the roster"})
        return "cancelled"
    spec = steps[visit.step]
    index = grids.grid_index(work.session)
    people_told = notify_missed(work, settings, index, visit, household, spec.notify)
    reached = [p for p in people_told if p.get("channel")]
    data = {"step": visit.step, "notify": list(spec.notify), "people": people_told}
    wanted = VisitStatus.MISSED if visit.status == VisitStatus.DUE else VisitStatus.ESCALATED
    transition(work, visit, wanted, data=data)
    visit.step += 1
    if visit.step < len(steps):
        wait = spec.wait_minutes if reached else 0
        visit.next_at = work.now + timedelta(minutes=wait)
        _queue_timer(work, visit)
    else:
        store.add_event(work.session, visit.id or 0, at=work.now, kind="escalation_exhausted", actor="system", data={})
    return f"{wanted.value}: {len(reached)} reached"


def visit_targets(session: Session, index: GridIndex, visit: Visit, target: str) -> list[tuple[Staff, str]]:
    """The people an escalation target means for a visit, each with why."""
    grid = visit.grid_code
    if target == "assignee":
        staff = session.get(Staff, visit.staff_id) if visit.staff_id else None
        if staff is not None and staff.active:
            return [(staff, "owes the visit")]
        target = "leader"  # nobody owes it (or they left): the leader does
    if target == "member":
        members = directory.active_staff_in_grid(session, StaffRole.MEMBER.value, grid)
        return [(s, f"member of {grid}") for s in members]
    if target == "leader":
        leaders = directory.active_staff_in_grid(session, StaffRole.LEADER.value, grid)
        return [(s, f"grid leader of {grid}") for s in leaders]
    level = 2 if target == "level2_contact" else 1
    role = StaffRole.LEVEL2_CONTACT if level == 2 else StaffRole.LEVEL1_CONTACT
    for ancestor in index.ancestors(grid):
        if ancestor.level == level:
            return [
                (s, f"level-{level} contact of {ancestor.code}")
                for s in directory.active_staff_with_role(session, role.value, ancestor.code)
            ]
    return []


def notify_missed(
    work: Work, settings: Settings, index: GridIndex, visit: Visit, household: Household, notify: list[str]
) -> list[dict[str, Any]]:
    """Tell each target of the step about the missed visit, with the household's history."""
    told: list[dict[str, Any]] = []
    seen: set[int] = set()
    history = household_history(work.session, household, exclude=visit.id)
    owner = work.session.get(Staff, visit.staff_id) if visit.staff_id else None
    for name in notify:
        for staff, why in visit_targets(work.session, index, visit, name):
            if staff.id in seen:
                continue
            seen.add(staff.id or 0)
            lang = staff.lang
            text = t(
                "visits.missed.text", lang,
                room=household.room_key,
                grid=household.grid_code,
                tags=_tags_text(settings, household, lang),
                due=_local_time(settings, visit.due_at),
                owner=owner.name if owner else t("visits.nobody", lang),
                history=_history_text(settings, history, lang),
            )
            own_grid = staff.grid_code == household.grid_code
            options = _log_options(visit, household, lang) if own_grid else ()
            # Someone of the grid who takes calls first hears it and logs it with a key (voice_visit).
            call = (_call_text(settings, visit, household, lang), _call_options(visit, lang)) if own_grid else None
            channel = tell_staff(work, staff, text, options, call=call)
            told.append({"staff": staff.code, "name": staff.name, "why": why, "channel": channel})
    return told


@dataclass(frozen=True)
class HouseholdHistory:
    visits: list[Visit]
    open_cases: list[str]


def household_history(session: Session, household: Household, *, exclude: int | None = None) -> HouseholdHistory:
    """The household's latest visits and its open 主动发现 cases (what a leader needs before going)."""
    past = [v for v in store.history(session, household.id or 0, limit=4) if v.id != exclude][:3]
    statuses = [s.value for s in OPEN_CASE_STATUSES]
    refs = [c.ref for c in store.open_cases_at(session, [household.id or 0], statuses)]
    return HouseholdHistory(past, refs)


def _history_text(settings: Settings, history: HouseholdHistory, lang: str) -> str:
    lines = []
    for visit in history.visits:
        when = _local_date(settings, visit.done_at or visit.due_at)
        lines.append(t(f"visits.history.{visit.outcome or visit.status}", lang, date=when))
    if not lines:
        lines.append(t("visits.history.none", lang))
    if history.open_cases:
        lines.append(t("visits.history.open_cases", lang, refs=join(history.open_cases, lang)))
    return "\n".join(lines)


def _tags_text(settings: Settings, household: Household, lang: str) -> str:
    return join((tag_label(settings, tag, lang) for tag in household.tags or []), lang) or "-"


def _local_time(settings: Settings, at: datetime) -> str:
    return at.astimezone(ZoneInfo(settings.timezone)).strftime("%m-%d %H:%M")


def _log_options(visit: Visit, household: Household, lang: str) -> tuple[Option, ...]:
    room = household.room_key
    return (
        Option(t("visits.button.ok", lang, room=room), f"visit:{visit.id}:ok"),
        Option(t("visits.button.problem", lang, room=room), f"visit:{visit.id}:problem"),
    )


def _call_text(settings: Settings, visit: Visit, household: Household, lang: str) -> str:
    return t(
        "visits.voice.missed", lang, grid=household.grid_code, room=household.room_key,
        tags=_tags_text(settings, household, lang), due=_local_time(settings, visit.due_at),
    )  # fmt: skip


def _call_options(visit: Visit, lang: str) -> tuple[Option, ...]:
    """The keys of a reminder call: 1 正常, 2 有问题 (then the problem is said: ``bots.twilio.voice_visit``)."""
    return (
        Option(t("visits.voice.ok", lang), f"visit:{visit.id}:ok"),
        Option(t("visits.voice.problem", lang), f"visit:{visit.id}:problem"),
    )


def tell_staff(
    work: Work, staff: Staff, text: str, options: tuple[Option, ...] = (), *, kind: str = MessageKind.REPLY,
    settings: Settings | None = None, call: tuple[str, tuple[Option, ...]] | None = None,
) -> str | None:
    """Queue ``text`` to the staff member's first reachable channel; the channel, or None.

    Telegram gets the buttons. A phone gets the text, except with ``call`` (what a call says and the
    keys it takes) for someone whose first channel is voice: a call that logs the visit by a key
    (``bots.twilio.voice_ask``). Digests are ``MessageKind.VISIT`` (bulk: paced with the other bulk
    sends); missed-visit notices are not.
    """
    for method in directory.contact_methods(work.session, staff.id or 0):
        if method.unreachable or method.channel == "web":
            continue
        if method.channel == "voice" and call is not None:
            voice = _staff_identity(work, staff, "call", method.target, "")
            if voice is not None and not voice.unreachable:
                queue_message(
                    work, channel="voice", identity=voice, text=call[0], lang=staff.lang, options=call[1],
                    staff_id=staff.id, kind=kind, settings=settings,
                )  # fmt: skip
                return "voice"
        identity = _staff_identity(work, staff, method.channel, method.target, method.bot_name)
        if identity is None or identity.unreachable:
            continue
        channel = "telegram" if method.channel == "telegram" else "sms"
        queue_message(
            work, channel=channel, identity=identity, text=text, lang=staff.lang,
            options=options if channel == "telegram" else (), staff_id=staff.id, kind=kind, settings=settings,
        )
        return channel
    return None


def _staff_identity(work: Work, staff: Staff, channel: str, target: str, bot_name: str) -> ChannelIdentity | None:
    session = work.session
    if channel == "telegram":
        linked = directory.staff_identities(session, staff.id or 0, "telegram")
        for identity in linked:
            if target in (identity.external_id, identity.chat_id):
                return identity
        if linked:
            return linked[0]
        if not target:
            return None
        identity = people.new_identity(session, "telegram", target, bot_name, work.now, chat_id=target)
        identity.staff_id = staff.id
        return identity
    phone = target or staff.phone
    if not phone:
        return None
    # ``call``: the voice identity of the number (a call); any other channel is texted to it.
    wanted = "voice" if channel == "call" else "sms"
    found = people.find_identity(session, wanted, phone)
    if found is not None:
        return found
    identity = people.new_identity(session, wanted, phone, "", work.now)
    identity.staff_id = staff.id
    return identity


# -- what is due: the daily digest --------------------------------------------------------------------


def owed_text(settings: Settings, owed: list[tuple[Visit, Household]], lang: str, now: datetime) -> str:
    """The list of visits owed, one line each, with how to log them."""
    lines = [t("visits.digest.title", lang, count=len(owed))]
    for visit, household in owed:
        key = "visits.digest.overdue" if visit.due_at <= now else "visits.digest.due"
        lines.append(
            t(key, lang, room=household.room_key, tags=_tags_text(settings, household, lang),
              due=_local_time(settings, visit.due_at))
        )
    lines.append(t("visits.digest.how", lang, room=owed[0][1].room_key if owed else "3-2-501"))
    return "\n".join(lines)


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
        options = tuple(o for visit, household in owed[:10] for o in _log_options(visit, household, staff.lang))
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


# -- the channels' door -------------------------------------------------------------------------------


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
        return VisitLogged(parsed.error or "no_room", t(key, lang, room=parsed.room_text))
    report = VisitReport(outcome=parsed.outcome, note=parsed.note, room=parsed.room, channel=channel)
    return await record_visit(services, report, staff_id=staff_id)


async def answer_visit_button(services: Services, staff_id: int, data: str) -> VisitLogged:
    """Log the visit a tapped button (``visit:<id>:ok|problem``) stands for."""
    parsed = parse_button(data)
    if parsed is None:
        lang = await in_transaction(services, _staff_lang, staff_id, services.settings)
        return VisitLogged("unknown_visit", t("visits.log.unknown_visit", lang))
    visit_id, outcome = parsed
    return await record_visit(services, VisitReport(outcome, visit_id=visit_id, channel="telegram"), staff_id=staff_id)


def _staff_lang(work: Work, staff_id: int, settings: Settings) -> str:
    staff = work.session.get(Staff, staff_id)
    return staff.lang if staff else settings.default_language


@dataclass(frozen=True)
class OwedList:
    text: str
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
    options = tuple(o for visit, household in owed[:10] for o in _log_options(visit, household, lang))
    return OwedList(owed_text(settings, owed, lang, work.now), options, lang, len(owed))


def owed_for(session: Session, staff: Staff, until: datetime) -> list[tuple[Visit, Household]]:
    """What a person sees as owed: a member their own visits; a leader every visit of their grid."""
    if staff.role == StaffRole.LEADER and staff.grid_code:
        return store.owed_in_grids(session, [staff.grid_code], until=until)
    return store.owed_by_staff(session, staff.id or 0, until=until)


def is_visit_button(data: str) -> bool:
    return parse_button(data) is not None


def parse_button(data: str) -> tuple[int, Outcome] | None:
    """``visit:<id>:ok|problem`` (the data of a log button) → (visit id, outcome)."""
    parts = data.split(":")
    if len(parts) != 3 or parts[0] != "visit" or not parts[1].isdigit() or parts[2] not in ("ok", "problem"):
        return None
    return int(parts[1]), "ok" if parts[2] == "ok" else "problem"


# -- the console ---------------------------------------------------------------------------------------


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
