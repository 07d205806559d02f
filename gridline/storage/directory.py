"""The directory of the city: grids, addresses, staff and their contact methods, the duty rota and
its overrides. Routing keeps the grid index and address matcher in memory; these are its queries.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import delete, exists, insert
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from gridline.storage import directory_cache
from gridline.storage.bulk import chunks
from gridline.storage.models import Address, ChannelIdentity, ContactMethod, DutyOverride, DutyShift, Grid, Staff


def all_grids(session: Session) -> list[Grid]:
    """Every grid, level 1 first, then by code."""
    return list(session.exec(select(Grid).order_by(col(Grid.level), col(Grid.code))))


def grid_codes(session: Session) -> set[str]:
    """The codes of every grid."""
    return set(session.exec(select(Grid.code)))


def grids_by_codes(session: Session, codes: Collection[str]) -> dict[str, Grid]:
    """Grids by code (unknown codes are simply absent)."""
    if not codes:
        return {}
    return {g.code: g for g in session.exec(select(Grid).where(col(Grid.code).in_(list(codes))))}


def has_grids(session: Session) -> bool:
    return session.exec(select(Grid.id).limit(1)).first() is not None


def grid(session: Session, code: str | None) -> Grid | None:
    """The grid with ``code`` (None for a case without a grid): a shared, read-only object from the
    process's directory snapshot when it is current (``storage.directory_cache``)."""
    if code is None:
        return None
    return directory_cache.grid(session, code)


def grid_row(session: Session, code: str) -> Grid | None:
    """The grid with ``code``, read from the database (in this session)."""
    return session.exec(select(Grid).where(Grid.code == code)).first()


def grids_by_code(session: Session, codes: Collection[str]) -> dict[str, Grid]:
    """The grids with these codes, by code (unknown codes are absent)."""
    if not codes:
        return {}
    return {g.code: g for g in session.exec(select(Grid).where(col(Grid.code).in_(list(codes))))}


def grids_by_level(session: Session) -> list[Grid]:
    """Every grid, district level first, then by code (the map's drawing order)."""
    return list(session.exec(select(Grid).order_by(col(Grid.level), col(Grid.code))))


def all_addresses(session: Session) -> list[Address]:
    return list(session.exec(select(Address)))


def staff_by_codes(session: Session, codes: Sequence[str], *, active_only: bool = False) -> dict[str, Staff]:
    """Staff rows by code (missing codes, and inactive people when ``active_only``, are absent)."""
    if not codes:
        return {}
    query = select(Staff).where(col(Staff.code).in_(list(codes)))
    if active_only:
        query = query.where(Staff.active == True)  # noqa: E712
    return {s.code: s for s in session.exec(query)}


def staff_by_code(session: Session, code: str) -> Staff | None:
    return session.exec(select(Staff).where(Staff.code == code)).first()


def active_staff_with_role(session: Session, role: str, grid_code: str | None = None) -> list[Staff]:
    """Active staff with ``role`` (attached to ``grid_code`` when given), by id."""
    query = select(Staff).where(Staff.role == role, Staff.active == True)  # noqa: E712
    if grid_code is not None:
        query = query.where(Staff.grid_code == grid_code)
    return list(session.exec(query.order_by(col(Staff.id))))


def active_staff_in_grid(session: Session, role: str, grid_code: str) -> list[Staff]:
    """Active staff with ``role`` attached to ``grid_code``, by code."""
    return list(
        session.exec(
            select(Staff)
            .where(Staff.grid_code == grid_code, Staff.role == role, Staff.active == True)  # noqa: E712
            .order_by(col(Staff.code))
        )
    )


def active_staff_in_grid_with_roles(session: Session, grid_code: str, roles: Collection[str]) -> list[Staff]:
    """Active staff attached to ``grid_code`` with one of ``roles``, by role then code."""
    return list(
        session.exec(
            select(Staff)
            .where(Staff.grid_code == grid_code, Staff.active == True, col(Staff.role).in_(list(roles)))  # noqa: E712
            .order_by(col(Staff.role), col(Staff.code))
        )
    )


def active_by_role_by_code(session: Session, role: str) -> list[Staff]:
    """Every active person with ``role``, by code."""
    return list(
        session.exec(
            select(Staff).where(Staff.role == role, Staff.active == True).order_by(col(Staff.code))  # noqa: E712
        )
    )


def contact_methods(session: Session, staff_id: int) -> list[ContactMethod]:
    """The person's contact methods in the order they are tried."""
    return list(
        session.exec(
            select(ContactMethod)
            .where(ContactMethod.staff_id == staff_id)
            .order_by(col(ContactMethod.position), col(ContactMethod.id))
        )
    )


def staff_identities(session: Session, staff_id: int, channel: str) -> list[ChannelIdentity]:
    """The person's linked accounts on ``channel`` (e.g. their Telegram chats)."""
    return list(
        session.exec(
            select(ChannelIdentity).where(ChannelIdentity.staff_id == staff_id, ChannelIdentity.channel == channel)
        )
    )


def shifts(session: Session, *, grid_code: str, role: str) -> list[DutyShift]:
    """The rota of one role in one grid."""
    return list(session.exec(select(DutyShift).where(DutyShift.grid_code == grid_code, DutyShift.role == role)))


def shifts_of(
    session: Session, staff_code: str, *, grid_code: str | None = None, role: str | None = None
) -> list[DutyShift]:
    """A person's shifts (in one grid and role, when given)."""
    query = select(DutyShift).where(DutyShift.staff_code == staff_code)
    if grid_code is not None:
        query = query.where(DutyShift.grid_code == grid_code)
    if role is not None:
        query = query.where(DutyShift.role == role)
    return list(session.exec(query))


def overrides_at(session: Session, *, grid_code: str, role: str, at: datetime) -> list[DutyOverride]:
    """Overrides of one role in one grid in force at ``at`` (UTC)."""
    return list(
        session.exec(
            select(DutyOverride).where(
                DutyOverride.grid_code == grid_code,
                DutyOverride.role == role,
                col(DutyOverride.starts_at) <= at,
                col(DutyOverride.ends_at) > at,
            )
        )
    )


def overrides_overlapping(session: Session, start: datetime, end: datetime) -> list[DutyOverride]:
    """Every override that overlaps [start, end)."""
    return list(
        session.exec(select(DutyOverride).where(col(DutyOverride.starts_at) < end, col(DutyOverride.ends_at) > start))
    )


# -- what the importers read and replace ------------------------------------------------------------


def address_texts(session: Session) -> set[str]:
    """Every address in the directory, as written."""
    return set(session.exec(select(Address.address)))


def addresses_named(session: Session, names: Sequence[str]) -> list[Address]:
    """The directory entries with these addresses."""
    found: list[Address] = []
    for batch in chunks(names):
        found.extend(session.exec(select(Address).where(col(Address.address).in_(batch))))
    return found


def all_staff(session: Session) -> list[Staff]:
    return list(session.exec(select(Staff)))


def staff_codes(session: Session) -> set[str]:
    return set(session.exec(select(Staff.code)))


def staff_ids_by_code(session: Session) -> dict[str, int]:
    return {code: staff_id for code, staff_id in session.exec(select(Staff.code, Staff.id)) if staff_id is not None}


def staff_with_codes(session: Session, codes: Sequence[str]) -> list[Staff]:
    found: list[Staff] = []
    for batch in chunks(codes):
        found.extend(session.exec(select(Staff).where(col(Staff.code).in_(batch))))
    return found


def contact_methods_of_staff(session: Session, staff_ids: Sequence[int]) -> list[ContactMethod]:
    """The contact methods of these people (in no particular order)."""
    found: list[ContactMethod] = []
    for batch in chunks(staff_ids):
        found.extend(session.exec(select(ContactMethod).where(col(ContactMethod.staff_id).in_(batch))))
    return found


def telegram_identities(session: Session, chat_ids: Sequence[str]) -> list[ChannelIdentity]:
    """Telegram identities (on any bot) of these chat ids."""
    found: list[ChannelIdentity] = []
    for batch in chunks(chat_ids):
        found.extend(
            session.exec(
                select(ChannelIdentity).where(
                    ChannelIdentity.channel == "telegram", col(ChannelIdentity.external_id).in_(batch)
                )
            )
        )
    return found


def all_overrides(session: Session) -> list[DutyOverride]:
    return list(session.exec(select(DutyOverride)))


def replace_shifts(session: Session, shifts: list[dict[str, object]], *, source: str) -> int:
    """Delete the ``source`` shifts of the grids in ``shifts`` (column values) and insert ``shifts``;
    returns how many were deleted."""
    grid_codes = sorted({str(s["grid_code"]) for s in shifts})
    old = session.exec(
        select(DutyShift.id).where(col(DutyShift.grid_code).in_(grid_codes), DutyShift.source == source)
    ).all()
    if old:
        session.execute(delete(DutyShift).where(col(DutyShift.id).in_(list(old))))
    if shifts:
        session.execute(insert(DutyShift), shifts)
    return len(old)


def reassignable_staff(session: Session, grid_chain: Sequence[str], departments: Collection[str]) -> list[Staff]:
    """Active people a case may be handed to: those of its grid chain (but no department's staff
    attached there) and the staff of ``departments`` (for a case without a grid: supervisors and
    those departments), by grid then name."""
    of_departments = (col(Staff.role) == "department") & col(Staff.department).in_(list(departments))
    query = select(Staff).where(col(Staff.active).is_(True))
    if grid_chain:
        in_chain = col(Staff.grid_code).in_(list(grid_chain)) & (col(Staff.role) != "department")
        query = query.where(in_chain | of_departments)
    else:
        query = query.where((col(Staff.role) == "supervisor") | of_departments)
    return list(session.exec(query.order_by(col(Staff.grid_code), col(Staff.name))))


def grid_names(session: Session) -> dict[str, str]:
    """Every grid's name by code."""
    return {code: name for code, name in session.exec(select(Grid.code, Grid.name))}


def staff_names(session: Session, staff_ids: Collection[int]) -> dict[int, str]:
    """Names of these staff members by id."""
    if not staff_ids:
        return {}
    return {s.id or 0: s.name for s in session.exec(select(Staff).where(col(Staff.id).in_(list(staff_ids))))}


def active_staff_reachable_on(session: Session, channel: str) -> list[Staff]:
    """Active staff with a contact method on ``channel``, by grid then id."""
    # EXISTS, not JOIN + DISTINCT: PostgreSQL cannot compare ``json`` columns (Staff has some), so
    # SELECT DISTINCT over a whole Staff row fails there.
    has_method = exists(select(ContactMethod.id).where(
        col(ContactMethod.staff_id) == col(Staff.id), ContactMethod.channel == channel))
    return list(session.exec(
        select(Staff).where(has_method, Staff.active == True)  # noqa: E712
        .order_by(col(Staff.grid_code), col(Staff.id))
    ))


def staff_by_ids(session: Session, staff_ids: Collection[int]) -> dict[int, Staff]:
    """These staff records by id."""
    if not staff_ids:
        return {}
    return {s.id: s for s in session.exec(select(Staff).where(col(Staff.id).in_(sorted(staff_ids)))) if s.id}


def roles_by_id(session: Session, staff_ids: Collection[int]) -> dict[int, str]:
    """The roles of these staff members by id."""
    if not staff_ids:
        return {}
    stmt = sa_select(col(Staff.id), col(Staff.role)).where(col(Staff.id).in_(sorted(staff_ids)))
    return {sid: role for sid, role in session.execute(stmt).all()}


def reachable_contact_methods(session: Session, staff_id: int) -> list[ContactMethod]:
    """The person's contact methods not marked unreachable, in the order they are tried."""
    return list(session.exec(
        select(ContactMethod).where(ContactMethod.staff_id == staff_id, ContactMethod.unreachable == False)  # noqa: E712
        .order_by(col(ContactMethod.position), col(ContactMethod.id))
    ))
