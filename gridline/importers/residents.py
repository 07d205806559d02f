"""Importing residents (households): ``name, phone, address, grid_code, lang, telegram``.

The grid comes from ``grid_code`` or, when it is empty, from the address through the directory.
Each resident gets an ``sms`` channel identity for the phone and a ``telegram`` one for the user id,
so that their first message is already recognised. Residents are matched by phone, then Telegram id.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from gridline.i18n import DEFAULT_LANGUAGE
from gridline.importers import DEFAULT_MAX_BYTES, ImportFailed, ImportProblem, ImportSummary, Invalid, Source
from gridline.importers.csvfile import read_csv
from gridline.importers.fields import normalize_lang, normalize_phone
from gridline.routing.addresses import AddressMatcher
from gridline.storage import directory, people
from gridline.storage.db import Database
from gridline.storage.models import ChannelIdentity, Resident

COLUMNS = ("name",)
OPTIONAL = ("phone", "address", "grid_code", "lang", "telegram", "telegram_user_id", "telegram_bot")
# An address found only fuzzily is not trusted for an import.
MIN_ADDRESS_SCORE = 0.8


def import_residents(
    db: Database, source: Source, *, now: datetime, max_bytes: int = DEFAULT_MAX_BYTES, name: str | None = None
) -> ImportSummary:
    """Insert or update residents and their sms/telegram identities."""
    table = read_csv(source, required=COLUMNS, optional=OPTIONAL, max_bytes=max_bytes, name=name)
    problems: list[ImportProblem] = []
    parsed: list[tuple[Resident, str | None, str]] = []
    with db.session() as session:
        grids = directory.grid_codes(session)
        matcher = AddressMatcher(directory.all_addresses(session))
        seen: dict[str, int] = {}
        for row in table.rows:
            errors: list[ImportProblem] = []
            phone: str | None = None
            try:
                phone = normalize_phone(row.get("phone")) if row.get("phone") else None
                lang = normalize_lang(row.get("lang"))
            except Invalid as exc:
                errors.append(row.invalid(exc))
                lang = DEFAULT_LANGUAGE
            telegram = row.get("telegram") or row.get("telegram_user_id") or None
            if telegram and not telegram.lstrip("-").isdigit():
                errors.append(row.problem("directory.resident.bad_telegram", value=telegram))
            if not phone and not telegram:
                errors.append(row.problem("directory.resident.needs_contact"))
            for key in (phone, telegram):
                if key and key in seen:
                    errors.append(row.problem("directory.resident.duplicate", value=key, line=seen[key]))
                elif key:
                    seen[key] = row.line
            address_text, grid_code = row.get("address") or None, row.get("grid_code") or None
            address_id = None
            if grid_code and grid_code not in grids:
                errors.append(row.problem("directory.resident.unknown_grid", grid_code=grid_code))
            if address_text:
                match = matcher.match(address_text)
                if match is not None and match.score >= MIN_ADDRESS_SCORE:
                    address_id = match.address_id
                    grid_code = grid_code or match.grid_code
            if not grid_code:
                errors.append(row.problem("directory.resident.no_address", address=address_text or "-"))
            if errors:
                problems.extend(errors)
                continue
            resident = Resident(
                name=row.get("name") or None, phone=phone, grid_code=grid_code, address_id=address_id,
                address_text=address_text, lang=lang, created_at=now,
            )  # fmt: skip
            parsed.append((resident, telegram, row.get("telegram_bot")))
        if problems:
            raise ImportFailed(table.name, problems)
        summary = ImportSummary("residents", table.name, encoding=table.encoding)
        for resident, telegram, bot in parsed:
            stored = _existing(session, resident.phone, telegram, bot)
            if stored is None:
                stored = resident
                summary.created += 1
            else:
                for attr in ("name", "phone", "grid_code", "address_id", "address_text", "lang"):
                    setattr(stored, attr, getattr(resident, attr))
                summary.updated += 1
            session.add(stored)
            session.flush()
            assert stored.id is not None
            if stored.phone:
                _identity(session, "sms", stored.phone, "", stored.id, stored.name, now)
            if telegram:
                _identity(session, "telegram", telegram, bot, stored.id, stored.name, now)
    return summary


def _existing(session: Session, phone: str | None, telegram: str | None, bot: str) -> Resident | None:
    if phone:
        found = people.first_resident_with_phone(session, phone)
        if found is not None:
            return found
    if telegram:
        identity = people.find_identity(session, "telegram", telegram, bot)
        if identity is not None and identity.resident_id is not None:
            return session.get(Resident, identity.resident_id)
    return None


def _identity(
    session: Session, channel: str, external_id: str, bot: str, resident_id: int, name: str | None, now: datetime
) -> None:
    identity = people.find_identity(session, channel, external_id, bot)
    if identity is None:
        identity = ChannelIdentity(channel=channel, external_id=external_id, bot_name=bot, created_at=now,
                                   chat_id=external_id if channel == "telegram" else None)  # fmt: skip
    identity.resident_id = resident_id
    identity.display = name
    session.add(identity)
