"""Importing the household roster (CSV, UTF-8 or GBK): one household a row, all or nothing.

Columns: ``grid_code, room`` and optionally ``building, unit, address, tags, members, family,
helper_name, helper_phone, consent_checkin, consent_family, lang, notes`` (docs/roster.md) and the
平安守护 opt-in of one member: ``checkin_channel, checkin_time, checkin_days, checkin_member``.
``members`` is ``name/phone; name/phone`` (phone optional), ``family`` is ``name/phone/relation; …``,
``tags`` are codes or labels (独居老人、高龄) separated by ``;``, ``；`` or ``、``. A household already
on the roster (same grid and room) is updated, and so are the rows of the people the file lists again
(:func:`match_people`: same name and phone, else the same name, else the same phone), so the
check-ins that point at them stay theirs; a file without the check-in columns keeps their opt-ins.
People no longer listed are marked removed and their check-ins not asked yet are cancelled.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import datetime

from gridline.i18n import DEFAULT_LANGUAGE
from gridline.importers import DEFAULT_MAX_BYTES, ImportFailed, ImportProblem, ImportSummary, Invalid, Source
from gridline.importers.csvfile import CsvRow, read_csv
from gridline.importers.fields import (
    CHECKIN_CHANNEL_WORDS,
    NO_WORDS,
    ROSTER_LIST_SPLIT,
    YES_WORDS,
    normalize_lang,
    normalize_phone,
    parse_weekdays,
)
from gridline.kernel.work import Work
from gridline.routing.addresses import AddressMatcher
from gridline.routing.checkins import parse_time, replan_member
from gridline.routing.roster import known_tags, tag_code
from gridline.settings import Settings
from gridline.storage import directory
from gridline.storage import households as roster
from gridline.storage.db import Database
from gridline.storage.models import Household, HouseholdPerson

COLUMNS = ("grid_code", "room")
# The 平安守护 opt-in of one member (docs/checkins.md): channel, local time, ISO weekdays, which member.
CHECKIN_COLUMNS = ("checkin_channel", "checkin_time", "checkin_days", "checkin_member")
OPTIONAL = (
    "building", "unit", "address", "tags", "members", "family", "helper_name", "helper_phone",
    "consent_checkin", "consent_family", "lang", "notes", *CHECKIN_COLUMNS,
)  # fmt: skip
MIN_ADDRESS_SCORE = 0.8


@dataclass
class _Parsed:
    household: Household
    people: list[HouseholdPerson] = field(default_factory=list)


def import_households(
    db: Database, source: Source, settings: Settings, *, now: datetime, max_bytes: int = DEFAULT_MAX_BYTES,
    name: str | None = None,
) -> ImportSummary:
    """Insert or update households and their members and family contacts."""
    table = read_csv(source, required=COLUMNS, optional=OPTIONAL, max_bytes=max_bytes, name=name)
    problems: list[ImportProblem] = []
    parsed: list[_Parsed] = []
    with db.session() as session:
        levels = {grid.code: grid.level for grid in directory.all_grids(session)}
        matcher = AddressMatcher(directory.all_addresses(session))
        seen: dict[tuple[str, str, str, str], int] = {}
        for row in table.rows:
            errors: list[ImportProblem] = []
            one = _parse_row(row, settings, levels, matcher, now, errors)
            if one is not None:
                h = one.household
                key = (h.grid_code, h.building, h.unit, h.room)
                if key in seen:
                    errors.append(row.problem("roster.import.duplicate_room", room=h.room_key, line=seen[key]))
                else:
                    seen[key] = row.line
            if errors or one is None:
                problems.extend(errors)
                continue
            parsed.append(one)
        if problems:
            raise ImportFailed(table.name, problems)
        summary = ImportSummary("households", table.name, encoding=table.encoding)
        # Check-ins re-timed or cancelled below keep their step rows; the reconciler queues every
        # pending step when it is due (routing.checkin_stages.requeue_due_steps), so the jobs of this
        # unit of work are not needed (an import runs outside the job queue's process).
        work = Work(session, now)
        for one in parsed:
            new = one.household
            stored = roster.by_room(session, new.grid_code, new.building, new.unit, new.room)
            before: list[HouseholdPerson] = []
            if stored is None:
                stored = new
                summary.created += 1
            else:
                before = roster.people_of(session, stored.id or 0, with_removed=True)
                for attr in (
                    "address_id", "address_text", "tags", "consent_checkin", "consent_family", "helper_name",
                    "helper_phone", "notes", "lang",
                ):  # fmt: skip
                    setattr(stored, attr, getattr(new, attr))
                stored.updated_at, stored.removed_at = now, None
                summary.updated += 1
            session.add(stored)
            session.flush()
            assert stored.id is not None
            summary.left += _update_people(
                work, settings, stored, before, one.people, keep_opt_ins="checkin_channel" not in table.columns
            )
    return summary


def _update_people(
    work: Work, settings: Settings, household: Household, before: list[HouseholdPerson],
    listed: list[HouseholdPerson], *, keep_opt_ins: bool,
) -> int:
    """Write the file's people over the stored ones (the same rows for the same people), mark the rest
    removed, and make the check-ins not asked yet follow; returns how many people left the roster."""
    opt_in_before = {p.id: (p.checkin_channel, p.checkin_time, list(p.checkin_days)) for p in before}
    pairs = match_people(before, listed)
    rows: list[HouseholdPerson] = []
    for index, person in enumerate(listed):
        row = pairs.get(index)
        if row is None:
            rows.append(person)
            continue
        row.name, row.phone, row.relation, row.removed_at = person.name, person.phone, person.relation, None
        if not keep_opt_ins:
            row.checkin_channel, row.checkin_time = person.checkin_channel, person.checkin_time
            row.checkin_days = list(person.checkin_days)
        rows.append(row)
    kept = {id(row) for row in rows}
    left = [p for p in before if id(p) not in kept and p.removed_at is None]
    for person in left:
        person.removed_at = work.now
    roster.save_people(work.session, household.id or 0, [*rows, *left])
    for person in left:
        if person.kind == "member":
            replan_member(work, settings, person, why="left the roster")
    for row in rows:
        if row.id not in opt_in_before or row.kind != "member":
            continue
        changed = (row.checkin_channel, row.checkin_time, list(row.checkin_days)) != opt_in_before[row.id]
        if changed or not household.consent_checkin:
            replan_member(work, settings, row, consent=household.consent_checkin,
                          why="opt-in changed" if household.consent_checkin else "consent withdrawn")  # fmt: skip
    return len(left)


# How a listed person is recognised among the stored ones, strictest first: the same name and phone;
# the same name (a new phone number); the same phone (the name's spelling corrected). The looser two
# only pair one stored person with one listed person, never guess between several.
_PERSON_KEYS: tuple[Callable[[HouseholdPerson], Hashable | None], ...] = (
    lambda p: (p.kind, p.name, p.phone),
    lambda p: (p.kind, p.name),
    lambda p: (p.kind, p.phone) if p.phone else None,
)


def match_people(stored: list[HouseholdPerson], listed: list[HouseholdPerson]) -> dict[int, HouseholdPerson]:
    """The stored row of each listed person who is the same person (by index in ``listed``); people
    still on the roster are preferred to those who left it earlier (who come back when listed again)."""
    free = sorted(stored, key=lambda p: p.removed_at is not None)
    pairs: dict[int, HouseholdPerson] = {}
    for strict, key in zip((True, False, False), _PERSON_KEYS, strict=True):
        waiting = [i for i in range(len(listed)) if i not in pairs]
        for i in waiting:
            wanted = key(listed[i])
            if wanted is None:
                continue
            same = [p for p in free if key(p) == wanted]
            rivals = sum(1 for j in waiting if j not in pairs and key(listed[j]) == wanted)
            if not same or (not strict and (len(same) > 1 or rivals > 1)):
                continue
            pairs[i] = same[0]
            free.remove(same[0])
    return pairs


def _parse_row(
    row: CsvRow, settings: Settings, levels: dict[str, int], matcher: AddressMatcher, now: datetime,
    errors: list[ImportProblem],
) -> _Parsed | None:
    grid_code = row.get("grid_code")
    if grid_code not in levels:
        errors.append(row.problem("roster.import.unknown_grid", grid_code=grid_code or "-"))
    elif levels[grid_code] != 3:
        errors.append(row.problem("roster.import.not_base_grid", grid_code=grid_code))
    if not row.get("room"):
        errors.append(row.problem("roster.import.needs_room"))
    tags: list[str] = []
    for given in filter(None, (part.strip() for part in ROSTER_LIST_SPLIT.split(row.get("tags")))):
        code = tag_code(settings, given)
        if code is None:
            errors.append(row.problem("roster.import.unknown_tag", tag=given, known=known_tags(settings)))
        elif code not in tags:
            tags.append(code)
    flags = {column: _flag(row, column, errors) for column in ("consent_checkin", "consent_family")}
    helper_name, helper_phone = row.get("helper_name") or None, _phone(row, row.get("helper_phone"), errors)
    if helper_phone and not helper_name:
        errors.append(row.problem("roster.import.helper_needs_name"))
    try:
        lang = normalize_lang(row.get("lang"))
    except Invalid as exc:
        errors.append(row.invalid(exc))
        lang = DEFAULT_LANGUAGE
    members = _people(row, "members", errors)
    _checkin_opt_in(row, members, flags["consent_checkin"], errors)
    people = [*members, *_people(row, "family", errors)]
    address_text = row.get("address") or None
    address_id = None
    if address_text:
        match = matcher.match(address_text)
        if match is not None and match.score >= MIN_ADDRESS_SCORE and match.grid_code == grid_code:
            address_id = match.address_id
    if errors:
        return None
    household = Household(
        grid_code=grid_code, building=row.get("building"), unit=row.get("unit"), room=row.get("room"),
        address_id=address_id, address_text=address_text, tags=tags, consent_checkin=flags["consent_checkin"],
        consent_family=flags["consent_family"], helper_name=helper_name, helper_phone=helper_phone,
        notes=row.get("notes") or None, lang=lang, created_at=now, updated_at=now,
    )  # fmt: skip
    return _Parsed(household, people)


def _flag(row: CsvRow, column: str, errors: list[ImportProblem]) -> bool:
    value = row.get(column).lower()
    if value in YES_WORDS:
        return True
    if value not in NO_WORDS:
        errors.append(row.problem("roster.import.bad_flag", column=column, value=row.get(column)))
    return False


def _phone(row: CsvRow, value: str, errors: list[ImportProblem]) -> str | None:
    if not value:
        return None
    try:
        return normalize_phone(value)
    except Invalid as exc:
        errors.append(row.invalid(exc))
        return None


def _people(row: CsvRow, column: str, errors: list[ImportProblem]) -> list[HouseholdPerson]:
    kind = "member" if column == "members" else "family"
    people: list[HouseholdPerson] = []
    for entry in filter(None, (part.strip() for part in ROSTER_LIST_SPLIT.split(row.get(column)))):
        parts = [part.strip() for part in entry.split("/")]
        if not parts[0] or len(parts) > 3:
            errors.append(row.problem("roster.import.bad_person", value=entry))
            continue
        phone = _phone(row, parts[1] if len(parts) > 1 else "", errors)
        if kind == "family" and phone is None:
            errors.append(row.problem("roster.import.family_needs_phone", name=parts[0]))
        relation = parts[2] if len(parts) > 2 else None
        people.append(HouseholdPerson(household_id=0, kind=kind, name=parts[0], phone=phone, relation=relation))
    return people


def _checkin_opt_in(
    row: CsvRow, members: list[HouseholdPerson], consent: bool, errors: list[ImportProblem]
) -> None:
    """Set the row's 平安守护 opt-in on its member (``checkin_member``, else the first one), or say
    what is wrong: an unknown channel, time or weekday, no consent, no such member, no phone."""
    raw_channel = row.get("checkin_channel")
    rest = {column: row.get(column) for column in ("checkin_time", "checkin_days", "checkin_member")}
    if not raw_channel:
        if any(rest.values()):
            errors.append(row.problem("roster.import.checkin_needs_channel"))
        return
    channel = CHECKIN_CHANNEL_WORDS.get(raw_channel.lower())
    if channel is None:
        errors.append(row.problem("roster.import.bad_checkin_channel", value=raw_channel))
    if not consent:
        errors.append(row.problem("roster.import.checkin_needs_consent"))
    at = rest["checkin_time"]
    if at and parse_time(at) is None:
        errors.append(row.problem("roster.import.bad_checkin_time", value=at))
    days: list[int] = []
    if rest["checkin_days"]:
        try:
            days = [day + 1 for day in parse_weekdays(rest["checkin_days"])]  # stored as ISO: 1 = Monday
        except Invalid as exc:
            errors.append(row.invalid(exc))
    name = rest["checkin_member"]
    member = next((m for m in members if m.name == name), None) if name else (members[0] if members else None)
    if member is None:
        errors.append(row.problem("roster.import.checkin_unknown_member", name=name or "-"))
        return
    if channel in ("sms", "voice") and not member.phone:
        errors.append(row.problem("roster.import.checkin_needs_phone", name=member.name))
    if channel is not None:
        parsed = parse_time(at) if at else None
        member.checkin_channel = channel
        member.checkin_time = parsed.strftime("%H:%M") if parsed else None
        member.checkin_days = days if len(days) < 7 else []  # every day is the empty list
