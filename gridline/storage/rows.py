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

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from pydantic_core import PydanticUndefined
from sqlalchemy import Table, insert
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import make_transient_to_detached
from sqlmodel import Session

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
