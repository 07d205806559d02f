"""The directory and the duty rota kept in each process's memory, checked with one read per unit of work.

Every report reads the directory several times (its grid, who is on duty — the shifts, the
overrides, the people —, the first contact method of each) in three units of work and two processes.
Those tables change rarely (an import, an override, a contact method marked unreachable), so each
process keeps them in memory and asks the database only whether they changed.

**How a change is seen, across processes.** ``directory_versions`` has one row per part (``grids``:
grids and addresses; ``people``: staff, contact methods, duty shifts, duty overrides). A database
trigger on each of those tables gives its part a new *random* token in the same transaction as the
write (:func:`install_triggers`; PostgreSQL per statement, SQLite per row), whoever writes — the
ORM, a bulk import, the CLI, a hand-written SQL statement. The first cached lookup of a unit of work
reads both tokens (one statement, remembered for the rest of the transaction); the snapshot in
memory is used only if it was built under the same token, otherwise it is rebuilt from the same
session. The token is read *before* the rows it guards, so a snapshot can only be newer than its
token (then the next check rebuilds it), never older; and it is random, not a counter, so a write
that is rolled back after its token was seen can never make an old snapshot look current again.
So a report whose unit of work starts after a rota change committed — in any process — sees it.

**A unit of work that writes the directory itself** does not use the snapshot for the rest of its
transaction (it sees its own uncommitted rows through the database, as before): pending ORM changes
to those tables, a flush of them, or a DML statement on them (``session.execute(insert(DutyShift))``)
switch the cache off for that session until it commits.

Shifts, overrides, grids and contact methods are shared, read-only objects; staff are handed out as
fresh copies, since callers pass them on (a copy is never in a session: code that changes a person
loads them with the queries of ``storage.directory``), except to read a page's words
(``staff_to_read``).
"""

from __future__ import annotations

import threading
import uuid
import weakref
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime
from itertools import chain
from typing import Any, TypeVar, cast

from sqlalchemy import event, insert, select, text
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import ORMExecuteState
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, SQLModel, col

from gridline.storage import directory
from gridline.storage.models import Address, ContactMethod, DirectoryVersion, DutyOverride, DutyShift, Grid, Staff
from gridline.storage.prepared import Prepared

PARTS: dict[str, tuple[str, ...]] = {
    "grids": ("grids", "addresses"),
    "people": ("staff", "contact_methods", "duty_shifts", "duty_overrides"),
}
_PART_OF_TABLE = {table: part for part, tables in PARTS.items() for table in tables}
_WATCHED_MODELS = (Grid, Address, Staff, ContactMethod, DutyShift, DutyOverride)
_TOKENS = "gridline.directory_tokens"  # session.info: the tokens read in this transaction
_READ_TOKENS = Prepared(select(col(DirectoryVersion.part), col(DirectoryVersion.token)))
_WRITTEN = "gridline.directory_written"  # session.info: this transaction wrote the directory

M = TypeVar("M", bound=SQLModel)


# -- the triggers ------------------------------------------------------------------------------------


def install_triggers(connection: Connection) -> None:
    """Create the token rows and the triggers (idempotent; the migration and ``create_all`` call it)."""
    for part in PARTS:
        row = select(col(DirectoryVersion.part)).where(col(DirectoryVersion.part) == part)
        exists = connection.execute(row).first()
        if exists is None:
            connection.execute(insert(DirectoryVersion).values(part=part, token=uuid.uuid4().hex))
    if connection.dialect.name == "postgresql":
        connection.execute(text(
            "CREATE OR REPLACE FUNCTION gridline_directory_changed() RETURNS trigger AS $$ BEGIN "
            "UPDATE directory_versions SET token = md5(random()::text || clock_timestamp()::text) "
            "WHERE part = TG_ARGV[0]; RETURN NULL; END $$ LANGUAGE plpgsql"))
        for table, part in _PART_OF_TABLE.items():
            connection.execute(text(f"DROP TRIGGER IF EXISTS {table}_directory_changed ON {table}"))
            connection.execute(text(
                f"CREATE TRIGGER {table}_directory_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
                f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION gridline_directory_changed('{part}')"))
        return
    for table, part in _PART_OF_TABLE.items():
        for what in ("INSERT", "UPDATE", "DELETE"):
            name = f"{table}_directory_changed_{what.lower()}"
            connection.execute(text(f"DROP TRIGGER IF EXISTS {name}"))
            connection.execute(text(
                f"CREATE TRIGGER {name} AFTER {what} ON {table} BEGIN "
                f"UPDATE directory_versions SET token = lower(hex(randomblob(16))) WHERE part = '{part}'; END"))


# -- noticing a unit of work's own writes -------------------------------------------------------------


def _after_flush(session: OrmSession, _context: Any) -> None:
    # Still the pre-flush lists here (SQLAlchemy's documented state in after_flush).
    if any(isinstance(o, _WATCHED_MODELS) for o in chain(session.new, session.dirty, session.deleted)):
        session.info[_WRITTEN] = True


def _on_execute(state: ORMExecuteState) -> None:
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    if getattr(table, "name", None) in _PART_OF_TABLE:
        state.session.info[_WRITTEN] = True


def _after_commit(session: OrmSession) -> None:
    session.info.pop(_TOKENS, None)
    session.info.pop(_WRITTEN, None)


def _after_rollback(session: OrmSession) -> None:
    # The tokens may be the rolled-back transaction's; "written" stays until a commit (it only makes
    # the session ask the database, which is always right).
    session.info.pop(_TOKENS, None)


event.listen(OrmSession, "after_flush", _after_flush)
event.listen(OrmSession, "do_orm_execute", _on_execute)
event.listen(OrmSession, "after_commit", _after_commit)
event.listen(OrmSession, "after_rollback", _after_rollback)


def _writes_directory(session: Session) -> bool:
    if session.info.get(_WRITTEN):
        return True
    # Nothing pending at all (the common case: the hot path writes by Core statements): no need to
    # build the session's ``new`` / ``dirty`` / ``deleted`` sets, nine times a report.
    if not (session._new or session._deleted or session.identity_map._modified):
        return False
    return any(isinstance(o, _WATCHED_MODELS) for o in chain(session.new, session.dirty, session.deleted))


# -- the snapshots -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class People:
    """Staff, contact methods, shifts and overrides as committed under ``token``."""

    token: str
    staff_by_code: dict[str, dict[str, Any]]
    staff_by_id: dict[int, dict[str, Any]]
    methods_by_staff: dict[int, list[dict[str, Any]]]  # in the order they are tried
    shifts: dict[tuple[str, str], list[DutyShift]]  # (grid code, role) → shared, read-only rows
    overrides: dict[tuple[str, str], list[DutyOverride]]
    # Shared, read-only objects made on first use (``staff_to_read``, ``contact_methods``), by staff id.
    shared_staff: dict[int, Staff] = field(default_factory=dict)
    shared_methods: dict[int, list[ContactMethod]] = field(default_factory=dict)
    # Who is on duty, worked out under this token (``routing.rota.on_duty_codes``): by (grid code,
    # role, time zone) the last answer and the UTC interval [from, until) over which it holds.
    on_duty: dict[tuple[str, str, str], tuple[datetime, datetime, tuple[str, ...]]] = field(default_factory=dict)


@dataclass(frozen=True)
class Grids:
    token: str
    grids: list[Grid]  # level 1 first, then by code; shared, read-only
    by_code: dict[str, Grid]


@dataclass
class _Cache:
    lock: threading.Lock = field(default_factory=threading.Lock)
    parts: dict[str, Any] = field(default_factory=dict)


_caches: weakref.WeakKeyDictionary[Engine, _Cache] = weakref.WeakKeyDictionary()
_caches_lock = threading.Lock()


def _cache_of(engine: Engine) -> _Cache:
    cache = _caches.get(engine)
    if cache is None:
        with _caches_lock:
            cache = _caches.setdefault(engine, _Cache())
    return cache


def forget(engine: Engine | None = None) -> None:
    """Drop this process's snapshots (of ``engine`` only, when given); the next lookup rebuilds them."""
    for key in list(_caches.keys()):
        if engine is None or key is engine:
            _caches[key].parts.clear()


def tokens(session: Session) -> dict[str, str]:
    """The parts' tokens as this transaction sees them (read once per transaction)."""
    found = session.info.get(_TOKENS)
    if found is None:
        # Prebuilt on the session's connection, not through the ORM's execute: no autoflush (the
        # caller made sure nothing of the directory is pending, and the unit of work's other pending
        # changes — a step's done_at — go out with its later statements) and no statement to compile
        # (one SELECT in most units of work of a report: ~0.03 ms each this way against ~0.11 ms).
        rows = _READ_TOKENS.rows(session)
        found = {part: token for part, token in rows}
        session.info[_TOKENS] = found
    return found


def _rows(session: Session, model: type[SQLModel], *order: Any) -> list[dict[str, Any]]:
    # Core rows, not ORM objects: nothing enters the session's identity map.
    table = model.__table__  # type: ignore[attr-defined]
    return [dict(row) for row in session.execute(select(table).order_by(*order)).mappings()]


def _build_people(session: Session, token: str) -> People:
    staff = _rows(session, Staff, col(Staff.id))
    methods: dict[int, list[dict[str, Any]]] = {}
    for row in _rows(session, ContactMethod, col(ContactMethod.position), col(ContactMethod.id)):
        methods.setdefault(row["staff_id"], []).append(row)
    shifts: dict[tuple[str, str], list[DutyShift]] = {}
    for row in _rows(session, DutyShift, col(DutyShift.id)):
        shifts.setdefault((row["grid_code"], row["role"]), []).append(DutyShift(**row))
    overrides: dict[tuple[str, str], list[DutyOverride]] = {}
    for row in _rows(session, DutyOverride, col(DutyOverride.id)):
        overrides.setdefault((row["grid_code"], row["role"]), []).append(DutyOverride(**row))
    return People(
        token=token,
        staff_by_code={s["code"]: s for s in staff},
        staff_by_id={s["id"]: s for s in staff},
        methods_by_staff=methods,
        shifts=shifts,
        overrides=overrides,
    )


def _build_grids(session: Session, token: str) -> Grids:
    grids = [Grid(**row) for row in _rows(session, Grid, col(Grid.level), col(Grid.code))]
    return Grids(token=token, grids=grids, by_code={g.code: g for g in grids})


_BUILDERS: dict[str, Callable[[Session, str], Any]] = {"people": _build_people, "grids": _build_grids}


def _snapshot(session: Session, part: str) -> Any | None:
    """The part's snapshot if it is current for this transaction; None: ask the database instead."""
    if _writes_directory(session):
        return None
    token = tokens(session).get(part)
    if token is None:  # a database without the token rows (or their triggers): no cache
        return None
    cache = _cache_of(session.get_bind())  # type: ignore[arg-type]
    snapshot = cache.parts.get(part)
    if snapshot is not None and snapshot.token == token:
        return snapshot
    # One thread builds; the others ask the database meanwhile (never wait on a build).
    if not cache.lock.acquire(blocking=False):
        return None
    try:
        snapshot = _BUILDERS[part](session, token)
        cache.parts[part] = snapshot
    finally:
        cache.lock.release()
    return snapshot


def people(session: Session) -> People | None:
    return _snapshot(session, "people")  # type: ignore[no-any-return]


def grids(session: Session) -> Grids | None:
    return _snapshot(session, "grids")  # type: ignore[no-any-return]


def _copy(model: type[M], row: dict[str, Any]) -> M:
    """A fresh object of ``row`` (transient, as its constructor makes it: lists and dicts copied)
    without the constructor's per-field work (SQLModel's ``__init__``: ~40 µs a person, two people
    a report), the way ``storage.rows.loaded`` builds objects."""
    values = {k: (list(v) if isinstance(v, list) else dict(v) if isinstance(v, dict) else v) for k, v in row.items()}
    obj = _new_instance(model)()
    obj.__dict__.update(values)
    object.__setattr__(obj, "__pydantic_fields_set__", set(values))
    return cast(M, obj)


_instance_makers: dict[type[Any], Callable[[], Any]] = {}


def _new_instance(model: type[Any]) -> Callable[[], Any]:
    make = _instance_makers.get(model)
    if make is None:
        make = _instance_makers.setdefault(model, sa_inspect(model).class_manager.new_instance)
    return make


# -- the lookups (each falls back to the database when the snapshot cannot be used) --------------------


def grid(session: Session, code: str) -> Grid | None:
    """The grid with ``code`` (a shared, read-only object), or None."""
    snapshot = grids(session)
    if snapshot is not None:
        return snapshot.by_code.get(code)
    return directory.grid_row(session, code)


def all_grids(session: Session) -> tuple[list[Grid], str | None]:
    """Every grid (level 1 first, then by code) and the token they were read under (None: not cached)."""
    snapshot = grids(session)
    if snapshot is not None:
        return snapshot.grids, snapshot.token
    return directory.all_grids(session), None


def rota(session: Session, grid_code: str, role: str, at: datetime) -> tuple[list[DutyShift], list[DutyOverride]]:
    """The shifts of ``role`` in ``grid_code`` and the overrides in force at ``at`` (UTC)."""
    snapshot = people(session)
    if snapshot is None:
        return (directory.shifts(session, grid_code=grid_code, role=role),
                directory.overrides_at(session, grid_code=grid_code, role=role, at=at))
    overrides = [o for o in snapshot.overrides.get((grid_code, role), ()) if o.starts_at <= at < o.ends_at]
    return list(snapshot.shifts.get((grid_code, role), ())), overrides


def active_staff_by_codes(session: Session, codes: Collection[str]) -> dict[str, Staff]:
    """The active people with these codes, by code (copies)."""
    snapshot = people(session)
    if snapshot is None:
        return directory.staff_by_codes(session, list(codes), active_only=True)
    found = (snapshot.staff_by_code.get(c) for c in codes)
    return {row["code"]: _copy(Staff, row) for row in found if row is not None and row["active"]}


def active_staff_with_role(session: Session, role: str, grid_code: str | None = None) -> list[Staff]:
    """Active people with ``role`` (attached to ``grid_code`` when given), by id (copies)."""
    snapshot = people(session)
    if snapshot is None:
        return directory.active_staff_with_role(session, role, grid_code)
    return [
        _copy(Staff, row) for row in snapshot.staff_by_id.values()
        if row["role"] == role and row["active"] and (grid_code is None or row["grid_code"] == grid_code)
    ]


def staff(session: Session, staff_id: int) -> Staff | None:
    """The person with ``staff_id``, active or not (a copy: not in the session), or None."""
    snapshot = people(session)
    if snapshot is None:
        return session.get(Staff, staff_id)
    row = snapshot.staff_by_id.get(staff_id)
    return None if row is None else _copy(Staff, row)


def staff_to_read(session: Session, staff_id: int) -> Staff | None:
    """The person with ``staff_id``, active or not, to read only (words of a page): a shared object
    of the snapshot, made once — never change it or add it to a session. None if there is none."""
    snapshot = people(session)
    if snapshot is None:
        return session.get(Staff, staff_id)
    shared = snapshot.shared_staff.get(staff_id)
    if shared is None:
        row = snapshot.staff_by_id.get(staff_id)
        if row is None:
            return None
        shared = snapshot.shared_staff.setdefault(staff_id, _copy(Staff, row))
    return shared


def contact_methods(session: Session, staff_id: int) -> list[ContactMethod]:
    """The person's contact methods in the order they are tried: shared objects of the snapshot, to
    read only (code that marks a method unreachable loads it with ``session.get``)."""
    snapshot = people(session)
    if snapshot is None:
        return directory.contact_methods(session, staff_id)
    shared = snapshot.shared_methods.get(staff_id)
    if shared is None:
        made = [_copy(ContactMethod, row) for row in snapshot.methods_by_staff.get(staff_id, ())]
        shared = snapshot.shared_methods.setdefault(staff_id, made)
    return list(shared)
