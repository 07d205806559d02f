"""Importing staff and their ordered notification channels.

``channels`` is an ordered list such as ``web|telegram:123456789|sms|voice``: telegram's target is the
chat id (``telegram@bot:123`` names the bot), sms and voice use the person's phone unless a number
is given (``sms:+8617000000001``), web needs nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from gridline.domain.lifecycle import StaffRole
from gridline.i18n import DEFAULT_LANGUAGE
from gridline.importers import DEFAULT_MAX_BYTES, ImportFailed, ImportProblem, ImportSummary, Invalid, Source
from gridline.importers.csvfile import CsvRow, read_csv
from gridline.importers.fields import INACTIVE_WORDS, normalize_lang, normalize_phone, split_list
from gridline.nlu.types import ISSUE_CATEGORIES
from gridline.storage import directory, pages
from gridline.storage.bulk import insert_rows
from gridline.storage.db import Database
from gridline.storage.models import ChannelIdentity, ContactMethod, Staff

COLUMNS = ("code", "name", "role")
OPTIONAL = ("grid_code", "department", "categories", "phone", "lang", "channels", "active")
CHANNELS = ("telegram", "sms", "voice", "web")
# Roles tied to one grid; the others may be district-wide.
GRID_ROLES = {StaffRole.LEADER, StaffRole.MEMBER, StaffRole.LEVEL2_CONTACT, StaffRole.LEVEL1_CONTACT}


@dataclass(frozen=True)
class Channel:
    channel: str
    target: str
    bot_name: str = ""


def parse_channels(value: str, phone: str | None) -> list[Channel]:
    """``web|telegram:123|sms|voice`` → ordered channels; raises :class:`Invalid` with the reason."""
    out: list[Channel] = []
    for token in [t.strip() for t in value.split("|") if t.strip()]:
        kind, _, target = token.partition(":")
        kind, _, bot = kind.strip().lower().partition("@")
        target = target.strip()
        if kind not in CHANNELS:
            raise Invalid("directory.staff.unknown_channel", channel=kind)
        if kind == "telegram":
            if not target.lstrip("-").isdigit():
                raise Invalid("directory.staff.telegram_target", token=token)
        elif kind in ("sms", "voice"):
            target = normalize_phone(target) if target else (phone or "")
            if not target:
                raise Invalid("directory.staff.needs_phone", channel=kind)
        else:
            target = ""
        channel = Channel(kind, target, bot)
        if channel in out:
            raise Invalid("directory.staff.channel_twice", token=token)
        out.append(channel)
    return out


STAFF_FIELDS = ("name", "role", "grid_code", "department", "categories", "phone", "lang", "active")


@dataclass
class _StaffRow:
    code: str
    values: dict[str, object]  # STAFF_FIELDS
    channels: list[Channel]


def _parse_row(row: CsvRow, grid_codes: set[str]) -> tuple[_StaffRow | None, list[ImportProblem]]:
    errors: list[ImportProblem] = []
    code, name, role = row.get("code"), row.get("name"), row.get("role").lower()
    if not code:
        errors.append(row.problem("directory.staff.empty", column="code"))
    if not name:
        errors.append(row.problem("directory.staff.empty", column="name"))
    if role not in {r.value for r in StaffRole}:
        errors.append(row.problem("directory.staff.bad_role", role=role, roles=", ".join(r.value for r in StaffRole)))
    grid_code = row.get("grid_code") or None
    if grid_code and grid_code not in grid_codes:
        errors.append(row.problem("directory.staff.unknown_grid", grid_code=grid_code))
    elif not grid_code and role in GRID_ROLES:
        errors.append(row.problem("directory.staff.needs_grid", role=role))
    categories = split_list(row.get("categories"))
    unknown = [c for c in categories if c not in ISSUE_CATEGORIES]
    if unknown:
        errors.append(row.problem("directory.staff.unknown_categories", unknown=", ".join(unknown),
                                  known=", ".join(ISSUE_CATEGORIES)))  # fmt: skip
    phone: str | None = None
    lang: str = DEFAULT_LANGUAGE
    channels: list[Channel] = []
    try:
        phone = normalize_phone(row.get("phone")) if row.get("phone") else None
        lang = normalize_lang(row.get("lang"))
        channels = parse_channels(row.get("channels") or "web", phone)
    except Invalid as exc:
        errors.append(row.invalid(exc))
    active = row.get("active").lower() not in INACTIVE_WORDS
    if errors:
        return None, errors
    values: dict[str, object] = {
        "name": name, "role": role, "grid_code": grid_code, "department": row.get("department") or None,
        "categories": categories, "phone": phone, "lang": lang, "active": active,
    }  # fmt: skip
    return _StaffRow(code, values, channels), []


def import_staff(
    db: Database,
    source: Source,
    *,
    now: datetime,
    max_bytes: int = DEFAULT_MAX_BYTES,
    name: str | None = None,
) -> ImportSummary:
    """Insert or update staff by code and set their channels in the file's order.

    A staff member's Telegram chat id is also recorded as their channel identity, so that a message
    from that account is recognised as staff.
    """
    table = read_csv(source, required=COLUMNS, optional=OPTIONAL, max_bytes=max_bytes, name=name)
    problems: list[ImportProblem] = []
    with db.session() as session:
        grid_codes = directory.grid_codes(session)
        parsed: dict[str, tuple[_StaffRow, int]] = {}
        for row in table.rows:
            result, errors = _parse_row(row, grid_codes)
            problems.extend(errors)
            if result is None:
                continue
            if result.code in parsed:
                first_line = parsed[result.code][1]
                problems.append(row.problem("directory.staff.duplicate", code=result.code, line=first_line))
                continue
            parsed[result.code] = (result, row.line)
        if problems:
            raise ImportFailed(table.name, problems)
        summary = ImportSummary("staff", table.name, encoding=table.encoding)
        known = directory.staff_ids_by_code(session)
        fresh = [item for code, (item, _) in parsed.items() if code not in known]
        insert_rows(session, Staff, [{"code": item.code, **item.values} for item in fresh])
        updated = [code for code in parsed if code in known]
        for staff in directory.staff_with_codes(session, updated):
            for attr, value in parsed[staff.code][0].values.items():
                setattr(staff, attr, value)
            session.add(staff)
        summary.created, summary.updated = len(fresh), len(updated)
        ids = directory.staff_ids_by_code(session)
        _set_channels(session, [(ids[code], item.channels, code in known) for code, (item, _) in parsed.items()], now)
    return summary


def _set_channels(session: Session, rows: list[tuple[int, list[Channel], bool]], now: datetime) -> None:
    """Give each person exactly the channels listed, in order, reusing rows that pages point at.
    ``rows``: (staff id, channels, whether the person existed before)."""
    current: dict[int, list[ContactMethod]] = {}
    for stored in directory.contact_methods_of_staff(session, [staff_id for staff_id, _, existed in rows if existed]):
        current.setdefault(stored.staff_id, []).append(stored)
    added: list[dict[str, object]] = []
    dropped: list[ContactMethod] = []
    telegram: dict[tuple[str, str], int] = {}
    for staff_id, channels, _ in rows:
        keyed = {(m.channel, m.target, m.bot_name): m for m in current.get(staff_id, [])}
        for position, channel in enumerate(channels):
            key = (channel.channel, channel.target, channel.bot_name)
            if key in keyed:
                method = keyed.pop(key)
                method.position, method.unreachable, method.unreachable_reason = position, False, None
                session.add(method)
            else:
                added.append({"staff_id": staff_id, "channel": channel.channel, "target": channel.target,
                              "bot_name": channel.bot_name, "position": position, "unreachable": False})  # fmt: skip
            if channel.channel == "telegram":
                telegram[(channel.target, channel.bot_name)] = staff_id
        dropped.extend(keyed.values())
    insert_rows(session, ContactMethod, added)
    paged = pages.contact_methods_paged(session, [m.id for m in dropped if m.id is not None])
    for method in dropped:
        if method.id in paged:  # pages keep pointing at it; take it out of use instead
            method.position, method.unreachable = 1000 + method.position, True
            method.unreachable_reason = "removed by staff import"
            session.add(method)
        else:
            session.delete(method)
    if telegram:
        _link_telegram_identities(session, telegram, now)


def _link_telegram_identities(session: Session, chats: dict[tuple[str, str], int], now: datetime) -> None:
    """Record staff Telegram chat ids as their channel identities (so their messages are recognised)."""
    existing: dict[tuple[str, str], ChannelIdentity] = {}
    for known in directory.telegram_identities(session, sorted({chat for chat, _ in chats})):
        existing[(known.external_id, known.bot_name)] = known
    added: list[dict[str, object]] = []
    for (chat, bot), staff_id in chats.items():
        identity = existing.get((chat, bot))
        if identity is None:
            added.append({"channel": "telegram", "external_id": chat, "bot_name": bot, "chat_id": chat,
                          "staff_id": staff_id, "unreachable": False, "created_at": now})  # fmt: skip
        else:
            identity.staff_id = staff_id
            session.add(identity)
    insert_rows(session, ChannelIdentity, added)
