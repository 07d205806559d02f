"""Importing staff and their ordered notification channels.

``channels`` is an ordered list such as ``web|telegram:123456789|sms|voice``: telegram's target is the
chat id (``telegram@bot:123`` names the bot), sms and voice use the person's phone unless a number
is given (``sms:+8617000000001``), web needs nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from gridline.importers import DEFAULT_MAX_BYTES, ImportFailed, ImportProblem, ImportSummary, Invalid, Source
from gridline.importers.csvfile import CsvRow, read_csv
from gridline.importers.fields import normalize_lang, normalize_phone, split_list
from gridline.nlu.types import ISSUE_CATEGORIES
from gridline.routing.lifecycle import StaffRole
from gridline.storage.db import Database
from gridline.storage.models import ChannelIdentity, ContactMethod, Grid, Page, Staff

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


@dataclass
class _StaffRow:
    staff: Staff
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
    lang = "zh-CN"
    channels: list[Channel] = []
    try:
        phone = normalize_phone(row.get("phone")) if row.get("phone") else None
        lang = normalize_lang(row.get("lang"))
        channels = parse_channels(row.get("channels") or "web", phone)
    except Invalid as exc:
        errors.append(row.invalid(exc))
    active = row.get("active").lower() not in ("0", "false", "no", "否")
    if errors:
        return None, errors
    staff = Staff(
        code=code, name=name, role=role, grid_code=grid_code, department=row.get("department") or None,
        categories=categories, phone=phone, lang=lang, active=active,
    )  # fmt: skip
    return _StaffRow(staff, channels), []


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
        grid_codes = set(session.exec(select(Grid.code)).all())
        parsed: dict[str, tuple[_StaffRow, int]] = {}
        for row in table.rows:
            result, errors = _parse_row(row, grid_codes)
            problems.extend(errors)
            if result is None:
                continue
            if result.staff.code in parsed:
                first_line = parsed[result.staff.code][1]
                problems.append(row.problem("directory.staff.duplicate", code=result.staff.code, line=first_line))
                continue
            parsed[result.staff.code] = (result, row.line)
        if problems:
            raise ImportFailed(table.name, problems)
        summary = ImportSummary("staff", table.name, encoding=table.encoding)
        existing = {s.code: s for s in session.exec(select(Staff).where(col(Staff.code).in_(list(parsed))))}
        rows: list[tuple[Staff, list[Channel]]] = []
        for code, (item, _) in parsed.items():
            staff = existing.get(code)
            if staff is None:
                staff = item.staff
                summary.created += 1
            else:
                for attr in ("name", "role", "grid_code", "department", "categories", "phone", "lang", "active"):
                    setattr(staff, attr, getattr(item.staff, attr))
                summary.updated += 1
            session.add(staff)
            rows.append((staff, item.channels))
        session.flush()  # one round trip for every staff id
        _set_channels(session, rows, now)
    return summary


def _set_channels(session: Session, rows: list[tuple[Staff, list[Channel]]], now: datetime) -> None:
    """Give each person exactly the channels listed, in order, reusing rows that pages point at."""
    staff_ids = [staff.id for staff, _ in rows]
    current: dict[int, list[ContactMethod]] = {}
    for stored in session.exec(select(ContactMethod).where(col(ContactMethod.staff_id).in_(staff_ids))):
        current.setdefault(stored.staff_id, []).append(stored)
    dropped: list[ContactMethod] = []
    telegram: dict[tuple[str, str], int] = {}
    for staff, channels in rows:
        assert staff.id is not None
        keyed = {(m.channel, m.target, m.bot_name): m for m in current.get(staff.id, [])}
        for position, channel in enumerate(channels):
            key = (channel.channel, channel.target, channel.bot_name)
            method = keyed.pop(key) if key in keyed else None
            if method is None:
                method = ContactMethod(staff_id=staff.id, channel=channel.channel, target=channel.target,
                                       bot_name=channel.bot_name)  # fmt: skip
            method.position = position
            method.unreachable, method.unreachable_reason = False, None
            session.add(method)
            if channel.channel == "telegram":
                telegram[(channel.target, channel.bot_name)] = staff.id
        dropped.extend(keyed.values())
    if dropped:
        paged = set(
            session.exec(
                select(Page.contact_method_id).where(col(Page.contact_method_id).in_([m.id for m in dropped]))
            ).all()
        )
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
    existing = {
        (i.external_id, i.bot_name): i
        for i in session.exec(
            select(ChannelIdentity).where(
                ChannelIdentity.channel == "telegram",
                col(ChannelIdentity.external_id).in_([chat for chat, _ in chats]),
            )
        )
    }
    for (chat, bot), staff_id in chats.items():
        identity = existing.get((chat, bot))
        if identity is None:
            identity = ChannelIdentity(channel="telegram", external_id=chat, bot_name=bot, chat_id=chat,
                                       created_at=now)  # fmt: skip
        identity.staff_id = staff_id
        session.add(identity)
