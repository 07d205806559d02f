"""Cases (``cases``): finding them (by id, reference, reporter, place, deadline), storing new ones.

Who reported a case and the cases a resident reported are ``storage.reporters``; a case's timeline
is ``storage.case_events``, its acknowledgements ``storage.acknowledgements``, its 回访 tasks
``storage.follow_ups``, the dashboard's columns of it ``storage.case_figures``."""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy import case as sa_case
from sqlalchemy import select as sa_select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, or_, select

from gridline.storage.models import Case, Page
from gridline.storage.prepared import Prepared
from gridline.storage.rows import inserted, loaded_into, new_row
from gridline.storage.types import UTCDateTime

# Prebuilt Core statements for what processing every report asks (``storage.rows``: the ORM's
# statement construction and its wide rows cost more than the round trips).
_CASES = Case.__table__  # type: ignore[attr-defined]


def _open_duplicate(statuses: tuple[str, ...], *places: Any) -> Prepared:
    where = [
        _CASES.c.status.in_(statuses),  # fixed in the statement: one per set of statuses (one in practice)
        _CASES.c.created_at >= bindparam("since", type_=UTCDateTime),
        _CASES.c.duplicate_of_id.is_(None),
        _CASES.c.category == bindparam("category"),
        or_(*(column == bindparam(column.key) for column in places)),
    ]
    # Both places given: a case in the grid first (the newest of those), else the newest at the address.
    first = [sa_case((_CASES.c.grid_code == bindparam("grid_code"), 0), else_=1)] if len(places) == 2 else []
    columns = (_CASES.c.id, _CASES.c.address_text)
    order = (*first, _CASES.c.created_at.desc())
    return Prepared(sa_select(*columns).where(*where).order_by(*order).limit(DUPLICATE_CANDIDATES))


# Open cases of one category in one grid within the window, looked at for one at the same place.
DUPLICATE_CANDIDATES = 20


_DUPLICATE_PLACES = {"grid": (_CASES.c.grid_code,), "address": (_CASES.c.address_text,),
                     "grid or address": (_CASES.c.grid_code, _CASES.c.address_text)}
_duplicates: dict[tuple[str, tuple[str, ...]], Prepared] = {}


def _duplicate_statement(places: str, statuses: Collection[str]) -> Prepared:
    key = (places, tuple(statuses))
    found = _duplicates.get(key)
    if found is None:
        found = _duplicates[key] = _open_duplicate(key[1], *_DUPLICATE_PLACES[places])
    return found


_CASE_COLUMNS = tuple(column.key for column in _CASES.columns)
_CASE_BY_ID = Prepared(sa_select(_CASES).where(_CASES.c.id == bindparam("case_id")), flush=True)  # as Session.get


def get(session: Session, case_id: int, *, fresh: bool = False) -> Case | None:
    """The case; ``fresh`` re-reads it even when the session already holds it.

    When the session does not hold it, one prebuilt SELECT (``storage.prepared``), its row made into
    the session's object as the ORM's loader would (``storage.rows.loaded_into``)."""
    if (Case, (case_id,), None) in session.identity_map:  # its identity key
        return session.get(Case, case_id, populate_existing=fresh)
    row = _CASE_BY_ID.first(session, {"case_id": case_id})
    return loaded_into(session, Case, dict(zip(_CASE_COLUMNS, row, strict=True))) if row is not None else None


def by_ref(session: Session, ref: str) -> Case | None:
    return session.exec(select(Case).where(Case.ref == ref)).first()


def for_open311(
    session: Session,
    *,
    start: datetime,
    end: datetime,
    refs: Collection[str] = (),
    categories: Collection[str] = (),
    statuses: Collection[str] = (),
    not_statuses: Collection[str] = (),
    limit: int,
) -> list[Case]:
    """Open311's ``GET requests``: by reference (then the dates do not apply), else created in
    [start, end]; narrowed by category and status; newest first."""
    if refs:
        query = select(Case).where(col(Case.ref).in_(list(refs)))
    else:
        query = select(Case).where(col(Case.created_at) >= start, col(Case.created_at) <= end)
    if categories:
        query = query.where(col(Case.category).in_(list(categories)))
    if statuses:
        query = query.where(col(Case.status).in_(list(statuses)))
    if not_statuses:
        query = query.where(col(Case.status).not_in(list(not_statuses)))
    return list(session.exec(query.order_by(col(Case.created_at).desc()).limit(limit)))


def add(session: Session, case: Case) -> Case:
    """Store a new case (flushed, so it has an id)."""
    session.add(case)
    session.flush()
    return case


def insert(session: Session, values: dict[str, Any], new_ref: Callable[[], str]) -> Case:
    """Store a new case from its column values with a reference from ``new_ref`` that no case has
    (``INSERT … ON CONFLICT (ref) DO NOTHING RETURNING id``, again with another reference when one
    was taken: no SELECT first, and no ``IntegrityError`` when another transaction takes the same
    reference meanwhile). The session's object, with its id, as :func:`add` gives it."""
    statement = _INSERT_NEW_POSTGRES if session.get_bind().dialect.name == "postgresql" else _INSERT_NEW_SQLITE
    while True:
        row = new_row(Case, {**values, "ref": new_ref()})
        new_id = statement.scalar(session, row)
        if new_id is not None:
            return inserted(session, Case, row, new_id)


def _insert_new(dialect: Any) -> Prepared:
    return Prepared(dialect.insert(_CASES).on_conflict_do_nothing(index_elements=["ref"]).returning(_CASES.c.id))


_INSERT_NEW_SQLITE, _INSERT_NEW_POSTGRES = _insert_new(sqlite), _insert_new(postgresql)


def newest_open_duplicate(
    session: Session,
    *,
    statuses: Collection[str],
    since: datetime,
    category: str,
    grid_code: str | None = None,
    address_text: str | None = None,
    at: Callable[[str | None], bool] | None = None,
) -> Case | None:
    """The newest original (not itself a duplicate) case in ``statuses`` created since ``since`` with
    this category, in ``grid_code``, else (none there, or no grid given) at ``address_text`` — the
    newest whose address ``at`` accepts, when given (the same place: ``routing.case_places``).

    One SELECT of ids and addresses (narrow rows), the case itself only when there is one."""
    params: dict[str, Any] = {"since": since, "category": category}
    if grid_code is not None and address_text is not None:
        statement = _duplicate_statement("grid or address", statuses)
        params.update(grid_code=grid_code, address_text=address_text)
    elif grid_code is not None:
        statement, params["grid_code"] = _duplicate_statement("grid", statuses), grid_code
    else:
        assert address_text is not None, "a grid or an address"
        statement, params["address_text"] = _duplicate_statement("address", statuses), address_text
    found = next((row[0] for row in statement.rows(session, params) if at is None or at(row[1])), None)
    return session.get(Case, found) if found is not None else None


def originals_without_grid(
    session: Session, *, resident_id: int, statuses: Collection[str], since: datetime
) -> list[Case]:
    """The resident's original cases without a grid (triage) in ``statuses`` created since ``since``,
    newest first."""
    return list(
        session.exec(
            select(Case)
            .where(
                col(Case.status).in_(list(statuses)),
                col(Case.created_at) >= since,
                col(Case.duplicate_of_id).is_(None),
                Case.resident_id == resident_id,
                col(Case.grid_code).is_(None),
            )
            .order_by(col(Case.created_at).desc())
        )
    )


def held_or_paged(session: Session, staff_id: int, *, statuses: Collection[str], limit: int = 20) -> list[Case]:
    """Cases in ``statuses`` the person holds or was paged about, newest first."""
    paged = select(Page.case_id).where(Page.staff_id == staff_id)
    return list(
        session.exec(
            select(Case)
            .where(
                col(Case.status).in_(list(statuses)),
                or_(col(Case.assignee_staff_id) == staff_id, col(Case.id).in_(paged)),
            )
            .order_by(col(Case.created_at).desc())
            .limit(limit)
        )
    )


def by_ids(session: Session, case_ids: Collection[int]) -> dict[int, Case]:
    """These cases by id."""
    if not case_ids:
        return {}
    return {c.id or 0: c for c in session.exec(select(Case).where(col(Case.id).in_(list(case_ids))))}


def visible(session: Session, case_id: int, *, scope: ColumnElement[bool]) -> Case | None:
    """The case, if ``scope`` (a WHERE clause on ``Case``) lets it through."""
    return session.exec(select(Case).where(Case.id == case_id, scope)).first()


def duplicates_of(session: Session, case_id: int, *, scope: ColumnElement[bool]) -> list[Case]:
    """The cases merged into this one that ``scope`` lets through, oldest first."""
    return list(session.exec(select(Case).where(Case.duplicate_of_id == case_id, scope).order_by(col(Case.created_at))))


def refs_by_id(session: Session, case_ids: Collection[int]) -> dict[int, str]:
    """Case references by case id."""
    if not case_ids:
        return {}
    rows = session.exec(select(Case.id, Case.ref).where(col(Case.id).in_(list(case_ids))))
    return {cid: ref for cid, ref in rows if cid is not None}


def latest_of_resident(session: Session, resident_id: int, *, scope: ColumnElement[bool]) -> Case | None:
    """The resident's newest case that ``scope`` lets through."""
    return session.exec(
        select(Case).where(Case.resident_id == resident_id, scope).order_by(col(Case.id).desc())
    ).first()


def resolved_before(session: Session, cutoff: datetime, *, status: str, limit: int) -> list[Case]:
    """Cases still in ``status`` (resolved, not yet confirmed) resolved at or before ``cutoff``, oldest first."""
    return list(
        session.exec(
            select(Case)
            .where(Case.status == status, col(Case.resolved_at) <= cutoff)
            .order_by(col(Case.resolved_at))
            .limit(limit)
        )
    )


def due_by(session: Session, by: datetime, *, statuses: Collection[str], limit: int) -> list[Case]:
    """Cases in ``statuses`` with a resolution deadline at or before ``by``, soonest deadline first."""
    return list(
        session.exec(
            select(Case)
            .where(
                col(Case.status).in_(sorted(statuses)),
                col(Case.resolve_due_at).is_not(None),
                col(Case.resolve_due_at) <= by,
            )
            .order_by(col(Case.resolve_due_at))
            .limit(limit)
        )
    )
