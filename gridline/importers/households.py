"""Importing the household roster (CSV, UTF-8 or GBK): one household a row, all or nothing.

Columns: ``grid_code, room`` and optionally ``building, unit, address, tags, members, family,
helper_name, helper_phone, consent_checkin, consent_family, lang, notes`` (docs/roster.md).
``members`` is ``name/phone; name/phone`` (phone optional), ``family`` is ``name/phone/relation; …``,
``tags`` are codes or labels (独居老人、高龄) separated by ``;``, ``；`` or ``、``. A household already
on the roster (same grid and room) is updated and its people replaced.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from gridline.i18n import DEFAULT_LANGUAGE
from gridline.importers import DEFAULT_MAX_BYTES, ImportFailed, ImportProblem, ImportSummary, Invalid, Source
from gridline.importers.csvfile import CsvRow, read_csv
from gridline.importers.fields import NO_WORDS, ROSTER_LIST_SPLIT, YES_WORDS, normalize_lang, normalize_phone
from gridline.routing.addresses import AddressMatcher
from gridline.routing.roster import known_tags, tag_code
from gridline.settings import Settings
from gridline.storage import directory
from gridline.storage import households as roster
from gridline.storage.db import Database
from gridline.storage.models import Household, HouseholdPerson

COLUMNS = ("grid_code", "room")
OPTIONAL = (
    "building", "unit", "address", "tags", "members", "family", "helper_name", "helper_phone",
    "consent_checkin", "consent_family", "lang", "notes",
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
        for one in parsed:
            new = one.household
            stored = roster.by_room(session, new.grid_code, new.building, new.unit, new.room)
            if stored is None:
                stored = new
                summary.created += 1
            else:
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
            roster.replace_people(session, stored.id, one.people)
    return summary


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
    people = [*_people(row, "members", errors), *_people(row, "family", errors)]
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
