"""Prebuilt Core statements run straight on the unit of work's DBAPI connection.

The hot path's statements are built once at import time, yet each still cost ~0.3 ms of SQLAlchemy
per execution (``Connection.execute``: the compiled cache's key, an execution context, parameter
construction and processing, a ``CursorResult`` and its metadata from ``cursor.description``)
against ~0.05-0.1 ms for the driver's own ``cursor.execute``. :class:`Prepared` does that work
once: per dialect (and per set of parameter names, which decides an INSERT's columns as it does in
SQLAlchemy) it compiles the statement into the driver's SQL text, the order of its parameters, their
fixed values and SQLAlchemy's own bind processors, and on the first run the result processors of
its columns. A run is then the driver's ``execute`` with the values converted as SQLAlchemy would
convert them, and plain tuples back, converted as SQLAlchemy would have converted them.

It runs on ``session.connection()``'s DBAPI connection, so it is inside the session's transaction
(or in autocommit for ``Database.statement_session``), and it dispatches the engine's
``before_cursor_execute``/``after_cursor_execute`` listeners as SQLAlchemy does: the statement
counter, the benchmarks' counting and SQLite's write lock (``storage.db._SqliteWriter``) see every
statement. A driver error is raised as SQLAlchemy raises it (``sqlalchemy.exc.IntegrityError`` …,
a lost connection invalidated) by SQLAlchemy's own handler.

A run flushes the session's pending changes first when the statement is made with ``flush=True``,
as ``Session.execute`` does for any statement (and ``Session.get`` before it loads); without it,
like ``session.connection().execute``, it does not (``storage.rows``' INSERTs: a change made
again later in the transaction is then written once). The session does not see the rows a run
reads or writes: callers that need ORM objects build them (``storage.rows``).

It leans on a few of SQLAlchemy 2's internals (the compiler's bind and result processors, the
connection's event and error handling); ``tests/core/test_prepared.py`` holds it to what
SQLAlchemy's own execution gives, on both databases.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.orm import Session
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import TextClause

_NO_PARAMS: Mapping[str, Any] = {}
_CACHE = "_gridline_prepared"  # the dialect's attribute: {(Prepared, parameter names): _Plan}


class _Plan:
    """One statement compiled for one dialect and one set of parameter names."""

    __slots__ = ("columns", "fixed", "given", "positional", "result_processors", "returns", "sql")

    def __init__(self, statement: ClauseElement, dialect: Dialect, keys: Sequence[str]) -> None:
        compiled = statement.compile(dialect=dialect, column_keys=sorted(keys))
        assert isinstance(compiled, SQLCompiler)
        if compiled.insert_prefetch or compiled.update_prefetch:
            # Python-side column defaults are computed by an execution context; the hot statements
            # have none. Say so instead of leaving them out.
            raise NotImplementedError(f"Prepared: column defaults to evaluate in {compiled.string!r}")
        expanding = {bind.key for bind in compiled.post_compile_params}
        if expanding & set(keys):
            raise NotImplementedError(f"Prepared: an IN list given at execution ({sorted(expanding & set(keys))})")
        # Expanding parameters with fixed values (``status IN (...)`` of a lifecycle's states) are
        # expanded once here; the caller's values stand in as None for this.
        state = compiled.construct_expanded_state({key: None for key in keys})
        processors: dict[str, Any] = {**compiled._bind_processors, **state.processors}
        unescaped = {escaped: name for name, escaped in compiled.escaped_bind_names.items()}
        names = list(state.positiontup) if compiled.positional and state.positiontup is not None \
            else list(state.parameters)
        given: list[tuple[int | str, str, Callable[[Any], Any] | None]] = []
        fixed: list[tuple[int | str, Any]] = []
        for index, name in enumerate(names):
            slot: int | str = index if compiled.positional else name
            bind = compiled.binds.get(unescaped.get(name, name))
            key = None
            if bind is not None:
                key = bind.key if bind.key in keys else (name if name in keys else None)
            processor = processors.get(name)
            if key is not None:
                given.append((slot, key, processor))
            elif bind is not None and bind.callable is not None:
                raise NotImplementedError(f"Prepared: a callable as the value of {bind.key!r}")
            else:
                value = state.parameters[name]
                fixed.append((slot, processor(value) if processor is not None else value))
        self.sql = state.statement
        self.positional = compiled.positional
        self.given = tuple(given)
        # Positional: a template list with the fixed values in place; named: a template dict.
        if self.positional:
            template: list[Any] = [None] * len(names)
            for slot, value in fixed:
                template[slot] = value  # type: ignore[index]
            self.fixed: list[Any] | dict[str, Any] = template
        else:
            self.fixed = {str(slot): value for slot, value in fixed}
        self.columns = [entry.type for entry in compiled._result_columns]
        # A ``text()`` statement names no columns: whether it returns rows is the driver's to say
        # (None), and its values come back as the driver gives them.
        self.returns: bool | None = None if isinstance(statement, TextClause) else bool(compiled._result_columns)
        # Resolved on the first run, from the cursor's description (the driver's column types).
        self.result_processors: list[tuple[int, Callable[[Any], Any]]] | None = None

    def parameters(self, params: Mapping[str, Any]) -> Any:
        if self.positional:
            out: list[Any] = list(self.fixed)  # type: ignore[arg-type]
        else:
            out = dict(self.fixed)  # type: ignore[assignment]
        for slot, key, processor in self.given:
            value = params[key]
            out[slot] = processor(value) if processor is not None else value  # type: ignore[index]
        return tuple(out) if self.positional else out

    def resolve_results(self, dialect: Dialect, description: Sequence[Any]) -> list[tuple[int, Callable[[Any], Any]]]:
        if len(description) != len(self.columns):
            raise RuntimeError(f"Prepared: {len(description)} columns came back for {len(self.columns)} compiled")
        resolved: list[tuple[int, Callable[[Any], Any]]] = []
        for index, (type_, column) in enumerate(zip(self.columns, description, strict=True)):
            processor = type_._cached_result_processor(dialect, column[1])
            if processor is not None:
                resolved.append((index, processor))
        self.result_processors = resolved
        return resolved


class Prepared:
    """A Core statement (``select``/``insert``/``update``/``delete`` or ``text()``, bind parameters by name) run
    with :meth:`rows`, :meth:`first`, :meth:`scalar` or :meth:`run` on a session's connection.

    Supported: bind parameters given by name at each run, fixed values in the statement (also
    ``IN`` lists of fixed values), ``RETURNING``. Not supported (raises when first compiled):
    Python-side column defaults, ``IN`` lists given at run time, callables as values."""

    __slots__ = ("__weakref__", "flush", "statement")

    def __init__(self, statement: ClauseElement, *, flush: bool = False) -> None:
        self.statement = statement
        self.flush = flush  # flush the session's pending changes first, as Session.execute does

    def __repr__(self) -> str:
        return f"Prepared({self.statement})"

    def _plan(self, dialect: Dialect, params: Mapping[str, Any]) -> _Plan:
        plans: dict[tuple[Prepared, tuple[str, ...]], _Plan] | None = dialect.__dict__.get(_CACHE)
        if plans is None:
            plans = {}
            setattr(dialect, _CACHE, plans)
        key = (self, tuple(params))
        plan = plans.get(key)
        if plan is None:
            plan = plans[key] = _Plan(self.statement, dialect, key[1])
        return plan

    def _execute(self, where: Session | Connection, params: Mapping[str, Any], fetch: bool) -> Any:
        if isinstance(where, Session):
            if self.flush:
                where._autoflush()  # the session's own check (``no_autoflush`` blocks, already flushing)
            conn = where.connection()
        else:
            conn = where
        dialect = conn.dialect
        plan = self._plan(dialect, params)
        sql, parameters = plan.sql, plan.parameters(params)
        cursor = None
        try:
            cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
            events = conn._has_events or conn.engine._has_events
            if events:
                for listener in conn.dispatch.before_cursor_execute:
                    sql, parameters = listener(conn, cursor, sql, parameters, None, False)
            if conn._echo:
                conn._log_info(sql)
            cursor.execute(sql, parameters)
            if events:
                conn.dispatch.after_cursor_execute(conn, cursor, sql, parameters, None, False)
            if not fetch:
                assert not plan.returns, "Prepared.run of a statement that returns rows: use rows/first/scalar"
                count = cursor.rowcount
                cursor.close()
                return count
            returns = plan.returns if plan.returns is not None else cursor.description is not None
            rows = cursor.fetchall() if returns else []
            processors = plan.result_processors
            if processors is None and plan.returns:
                processors = plan.resolve_results(dialect, cursor.description)
            cursor.close()
        except BaseException as error:
            conn._handle_dbapi_exception(error, sql, parameters, cursor, None)
        if processors:
            converted = []
            for row in rows:
                values = list(row)
                for index, processor in processors:
                    values[index] = processor(values[index])
                converted.append(tuple(values))
            return converted
        return rows  # the drivers' rows are tuples already (pysqlite; psycopg's default row factory)

    def rows(self, where: Session | Connection, params: Mapping[str, Any] = _NO_PARAMS) -> list[tuple[Any, ...]]:
        """Every row the statement returns, as tuples of the columns' values."""
        return self._execute(where, params, True)  # type: ignore[no-any-return]

    def first(self, where: Session | Connection, params: Mapping[str, Any] = _NO_PARAMS) -> tuple[Any, ...] | None:
        """The first row, or None."""
        rows = self._execute(where, params, True)
        return rows[0] if rows else None

    def scalar(self, where: Session | Connection, params: Mapping[str, Any] = _NO_PARAMS) -> Any:
        """The first column of the first row, or None without a row."""
        rows = self._execute(where, params, True)
        return rows[0][0] if rows else None

    def run(self, where: Session | Connection, params: Mapping[str, Any] = _NO_PARAMS) -> int:
        """Run a statement that returns no rows; how many rows it changed (the driver's rowcount)."""
        return self._execute(where, params, False)  # type: ignore[no-any-return]
