"""Rows of the hot path without the ORM's per-row machinery, as the session's ordinary objects.

Building a table model through its constructor (SQLModel's ``__init__``: defaults, validation
hooks, an attribute event per field) and inserting it through the unit of work (``add`` + ``flush``)
cost far more CPU than the INSERT itself. :func:`insert_row` sends one prebuilt Core ``INSERT …
RETURNING id`` (``storage.prepared``: straight to the driver) and hands back the object as if the
session had loaded it: attached, its id set, later changes to it flushed as UPDATEs like any
loaded object's. :func:`loaded` builds such an object from a row read by a Core statement (the way
the ORM's loader does, without ``__init__``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from pydantic_core import PydanticUndefined
from sqlalchemy import Table, bindparam, event, insert, update
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.base import NO_VALUE
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, SQLModel

from gridline.storage.prepared import Prepared

M = TypeVar("M")


@dataclass
class _Model:
    table: Table
    insert: Prepared
    new_instance: Callable[[], Any]
    columns: tuple[str, ...]
    defaults: dict[str, Any]
    factories: dict[str, Callable[[], Any]]


_models: dict[type[Any], _Model] = {}


def _model(model: type[Any]) -> _Model:
    found = _models.get(model)
    if found is not None:
        return found
    table = cast(Table, model.__table__)
    columns = tuple(column.key for column in table.columns)
    defaults: dict[str, Any] = {}
    factories: dict[str, Callable[[], Any]] = {}
    for name, info in model.model_fields.items():
        if name not in columns:
            continue
        if info.default_factory is not None:
            factories[name] = cast(Callable[[], Any], info.default_factory)
        elif info.default is not PydanticUndefined:
            defaults[name] = info.default
    found = _Model(table, Prepared(insert(table).returning(table.c.id)), sa_inspect(model).class_manager.new_instance,
                   columns, defaults, factories)
    _models[model] = found
    return found


def _values(spec: _Model, values: Mapping[str, Any]) -> dict[str, Any]:
    row = {**spec.defaults, **{name: make() for name, make in spec.factories.items() if name not in values}}
    row.update(values)
    unknown = row.keys() - set(spec.columns)
    assert not unknown, f"not columns of {spec.table.name}: {sorted(unknown)}"
    return row


def loaded(model: type[M], values: Mapping[str, Any]) -> M:
    """The object for a row of ``model`` read by a Core statement (``values``: its columns, with the
    id; any column left out takes the model's default), detached: as the ORM would have loaded it."""
    spec = _model(model)
    obj = spec.new_instance()
    obj.__dict__.update(_values(spec, values))
    make_transient_to_detached(obj)
    return cast(M, obj)


def transient(model: type[M], values: Mapping[str, Any]) -> M:
    """An object of ``model`` for a row not written yet (``values`` and the model's defaults, no
    session): to read its attributes before deciding the rest of what to INSERT."""
    spec = _model(model)
    obj = spec.new_instance()
    obj.__dict__.update(_values(spec, values))
    return cast(M, obj)


def insert_row(session: Session, model: type[M], values: Mapping[str, Any]) -> M:
    """INSERT one row of ``model`` now (``values`` by column; the rest take the model's defaults, as
    its constructor would give them) and return it as the session's object, with its id.

    Nothing pending in the session is flushed first: the caller's rows that this one refers to are
    in the database already (flushed, or inserted the same way)."""
    spec = _model(model)
    row = _values(spec, values)
    row.pop("id", None)
    rows = spec.insert.rows(session, row)
    assert len(rows) == 1
    return inserted(session, model, row, rows[0][0])


def new_row(model: type[Any], values: Mapping[str, Any]) -> dict[str, Any]:
    """``values`` with the model's defaults for the columns left out (no id): what to INSERT."""
    row = _values(_model(model), values)
    row.pop("id", None)
    return row


def inserted(session: Session, model: type[M], row: Mapping[str, Any], new_id: int) -> M:
    """The session's object for ``row`` (from :func:`new_row`), just inserted with ``new_id``."""
    obj = _model(model).new_instance()
    obj.__dict__.update(row)
    obj.__dict__["id"] = new_id
    make_transient_to_detached(obj)  # the row is there: the session tracks it from here (UPDATEs)
    session.add(obj)
    return cast(M, obj)


def loaded_into(session: Session, model: type[M], values: Mapping[str, Any]) -> M:
    """:func:`loaded`, attached to ``session``; the session's own object when it holds that row
    already (as an ORM query gives it: not refreshed)."""
    obj = loaded(model, values)
    existing = session.identity_map.get(sa_inspect(obj).key)
    if existing is not None:
        return cast(M, existing)
    session.add(obj)
    return obj


# -- the changes of loaded rows, written without the ORM's flush ---------------------------------------

# The models whose changed objects a flush writes by one prebuilt UPDATE each (``storage.prepared``)
# instead of the unit of work's machinery (dependency sort, per-mapper save, ``Connection.execute``):
# the rows a report changes after loading or inserting them (the case's transition, the message's
# case, the conversation's time and state, the identity's chat). Not the directory's models: their
# flushes are noticed by ``storage.directory_cache`` (``after_flush``), which this would hide.
_UPDATED_DIRECTLY: set[type[Any]] = set()


def update_directly(*models: type[Any]) -> None:
    """Write the changes of ``models``' objects at a flush by :func:`_write_changes`.

    Refuses a model with a column the ORM fills in at an UPDATE (``onupdate``, a version counter):
    the direct UPDATE writes only the changed attributes and would leave it stale."""
    for model in models:
        mapper = sa_inspect(model)
        filled = [c.name for c in model.__table__.columns if c.onupdate is not None or c.server_onupdate is not None]
        if filled or mapper.version_id_col is not None:
            raise ValueError(f"{model.__name__} cannot be updated directly: {filled or 'a version counter'}")
    _UPDATED_DIRECTLY.update(models)


_updates: dict[tuple[Table, tuple[str, ...]], Prepared] = {}
_FEW = 8  # dirty objects at most in a flush written here


def _flush_order(state: Any) -> tuple[int, Any]:
    return _table_order().get(state.class_.__table__, 0), state.key[1] if state.key is not None else ()


@functools.cache
def _table_order() -> dict[Table, int]:
    return {table: i for i, table in enumerate(SQLModel.metadata.sorted_tables)}


def _update(table: Table, keys: tuple[str, ...]) -> Prepared:
    found = _updates.get((table, keys))
    if found is None:
        # The columns to SET come from the parameters' names, as SQLAlchemy's own UPDATE does.
        found = _updates[(table, keys)] = Prepared(update(table).where(table.c.id == bindparam("row_id")))
    return found


def _write_changes(session: OrmSession, _context: Any, instances: Any) -> None:
    """``before_flush``: the changed columns of each dirty object of :data:`_UPDATED_DIRECTLY`, by one
    ``UPDATE … WHERE id = ?`` of those columns, then the object marked as flushed (as the flush marks
    it). Only when the flush has nothing else to do but UPDATEs (no new or deleted objects, not a
    flush of chosen objects) of a few rows (the ORM sends many rows' like changes as one
    ``executemany``); the ORM then flushes what is left, as always. In the ORM's order (tables by
    their dependencies, then rows by id: concurrent transactions lock rows in one order). Like the
    ORM, an attribute set to the value it had is not written, and a row that is not there any more
    is a ``StaleDataError``."""
    if instances is not None or session.new or session.deleted or not _UPDATED_DIRECTLY:
        return
    dirty = session.dirty
    if len(dirty) > _FEW:
        return
    states = sorted((sa_inspect(obj) for obj in dirty if type(obj) in _UPDATED_DIRECTLY), key=_flush_order)
    for state in states:
        if state.key is None or not state.committed_state:
            continue
        changes: dict[str, Any] = {}
        for key in sorted(state.committed_state):
            old, new = state.committed_state[key], state.dict.get(key, NO_VALUE)
            if new is NO_VALUE or key == "id":
                break  # unloaded or the key itself: the ORM's own flush
            if old is NO_VALUE or old != new:
                changes[key] = new
        else:
            if changes:
                table = cast(Table, state.class_.__table__)
                changed = _update(table, tuple(changes)).run(session, {**changes, "row_id": state.key[1][0]})
                if changed != 1:
                    raise StaleDataError(f"UPDATE of {table.name} {state.key[1][0]} matched {changed} rows, not 1")
            state._commit_all(state.dict, session.identity_map)


event.listen(OrmSession, "before_flush", _write_changes)


def _hot_models() -> None:
    from gridline.storage.models import Case, ChannelIdentity, Conversation, InboundEvent, Message, Page, Resident

    update_directly(Case, ChannelIdentity, Conversation, InboundEvent, Message, Page, Resident)


_hot_models()
