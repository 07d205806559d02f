"""A missed visit escalates like a page: the visit's timer step (``run_visit_timer``, claimed by one
conditional UPDATE) tells the step's people — the one who owes it, the leader, the level-2 contact —
with the household's history, on their first channel (``tell_staff``: Telegram with the log buttons,
a call that takes a key for voice-first staff of the grid, else a text)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlmodel import Session

from gridline.domain.lifecycle import OPEN_CASE_STATUSES, StaffRole
from gridline.i18n.phrases import Lines, Phrase
from gridline.kernel.messages import Option
from gridline.kernel.outbox import queue_message
from gridline.kernel.work import Work, in_transaction
from gridline.routing.directory import Directory
from gridline.routing.grids import GridIndex
from gridline.routing.roster import tag_phrase
from gridline.routing.visit_plans import local_date, local_time, queue_timer
from gridline.routing.visit_states import EVERYONE, OPEN_VISIT_STATUSES, VisitStatus, transition
from gridline.settings import Settings
from gridline.storage import directory, people
from gridline.storage import households as roster
from gridline.storage import visits as store
from gridline.storage.models import ChannelIdentity, Household, Staff, Visit
from gridline.storage.pacing import MessageKind

if TYPE_CHECKING:
    from gridline.kernel.services import Services


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
        queue_timer(work, visit)
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
            text = Phrase("visits.missed.text", {
                "room": household.room_key,
                "grid": household.grid_code,
                "tags": household_tags(settings, household, lang),
                "due": local_time(settings, visit.due_at),
                "owner": owner.name if owner else Phrase("visits.nobody"),
                "history": _history_lines(settings, history),
            })  # fmt: skip
            own_grid = staff.grid_code == household.grid_code
            options = log_options(visit, household) if own_grid else ()
            # Someone of the grid who takes calls first hears it and logs it with a key (voice_visit).
            call = (_call_text(settings, visit, household, lang), _call_options(visit)) if own_grid else None
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


def _history_lines(settings: Settings, history: HouseholdHistory) -> Lines:
    lines: list[Phrase] = []
    for visit in history.visits:
        when = local_date(settings, visit.done_at or visit.due_at)
        lines.append(Phrase(f"visits.history.{visit.outcome or visit.status}", {"date": when}))
    if not lines:
        lines.append(Phrase("visits.history.none"))
    if history.open_cases:
        lines.append(Phrase("visits.history.open_cases", {"refs": list(history.open_cases)}))
    return Lines(tuple(lines))


def household_tags(settings: Settings, household: Household, lang: str) -> list[Phrase | str] | str:
    """The household's tags, joined with the language's separator where said ("-" if none)."""
    return [tag_phrase(settings, tag, lang) for tag in household.tags or []] or "-"



def log_options(visit: Visit, household: Household) -> tuple[Option, ...]:
    room = household.room_key
    return (
        Option(Phrase("visits.button.ok", {"room": room}), f"visit:{visit.id}:ok"),
        Option(Phrase("visits.button.problem", {"room": room}), f"visit:{visit.id}:problem"),
    )


def _call_text(settings: Settings, visit: Visit, household: Household, lang: str) -> Phrase:
    return Phrase("visits.voice.missed", {
        "grid": household.grid_code, "room": household.room_key,
        "tags": household_tags(settings, household, lang), "due": local_time(settings, visit.due_at),
    })  # fmt: skip


def _call_options(visit: Visit) -> tuple[Option, ...]:
    """The keys of a reminder call: 1 正常, 2 有问题 (then the problem is said: ``bots.twilio.voice_visit``)."""
    return (
        Option(Phrase("visits.voice.ok"), f"visit:{visit.id}:ok"),
        Option(Phrase("visits.voice.problem"), f"visit:{visit.id}:problem"),
    )


def tell_staff(
    work: Work, staff: Staff, text: Phrase, options: tuple[Option, ...] = (), *, kind: str = MessageKind.REPLY,
    settings: Settings | None = None, call: tuple[Phrase, tuple[Option, ...]] | None = None,
    by_phone: Callable[[str], Phrase] | None = None, case_id: int | None = None,
) -> str | None:
    """Queue ``text`` (a catalogue phrase) to the staff member's first reachable channel; the channel, or None.

    Telegram gets the buttons. A phone gets the text, except with ``call`` (what a call says and the
    keys it takes) for someone whose first channel is voice: a call that logs the visit by a key
    (``bots.twilio.voice_ask``). ``by_phone``: what a text to that number says instead (a reply code
    is the phone's own); ``case_id``: the case the message is about (kept on it). Digests are
    ``MessageKind.VISIT`` (bulk: paced with the other bulk sends); missed-visit notices are not.
    """
    for method in directory.contact_methods(work.session, staff.id or 0):
        if method.unreachable or method.channel == "web":
            continue
        if method.channel == "voice" and call is not None:
            voice = _staff_identity(work, staff, "call", method.target, "")
            if voice is not None and not voice.unreachable:
                queue_message(
                    work, channel="voice", identity=voice, phrase=call[0], lang=staff.lang, options=call[1],
                    staff_id=staff.id, kind=kind, settings=settings,
                )  # fmt: skip
                return "voice"
        identity = _staff_identity(work, staff, method.channel, method.target, method.bot_name)
        if identity is None or identity.unreachable:
            continue
        channel = "telegram" if method.channel == "telegram" else "sms"
        said = by_phone(identity.external_id) if by_phone is not None and channel == "sms" else text
        queue_message(
            work, channel=channel, identity=identity, phrase=said, lang=staff.lang, case_id=case_id,
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
