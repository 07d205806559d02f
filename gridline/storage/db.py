"""Database engine and sessions for SQLite (embedded default) and PostgreSQL.

Every unit of work runs in one of the database's own worker threads (``Database.run``), never on
the event loop: a slow query or a lock wait then delays only the unit of work that caused it, while
webhooks, live console events and the scheduler keep going. Measured against SQLAlchemy's asyncio
sessions in ``bench/uow_bench.py`` (see docs/performance.md): one thread hop per unit of work costs
less than aiosqlite's hop per statement or the asyncio session's greenlet switches per statement.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DisconnectionError
from sqlmodel import Session, SQLModel, create_engine

import gridline.storage.models  # noqa: F401  (registers every table on the metadata)

P = ParamSpec("P")
T = TypeVar("T")


def normalise_url(url: str) -> str:
    """Accept ``postgresql://`` and ``postgres://`` and use the psycopg 3 driver for them."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


class Database:
    """Owns the engine and the worker threads; hands out short sessions. One per process."""

    def __init__(self, url: str, echo: bool = False, *, threads: int = 12, lock_timeout_ms: int = 5000) -> None:
        self.url = normalise_url(url)
        parsed = make_url(self.url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        # Statement parameters hold residents' words: keep them out of error messages and logs.
        kwargs: dict[str, Any] = {"echo": echo, "hide_parameters": True}
        if self.is_sqlite:
            database = parsed.database
            if database and database != ":memory:":
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        else:
            # One connection per worker thread plus a few for the reconciler and the CLI. No
            # ``pool_pre_ping``: it costs a round trip per unit of work; connections are pinged only
            # after they sat idle (``_ping_if_idle``).
            kwargs.update(pool_size=threads, max_overflow=10)
            kwargs["connect_args"] = {"options": f"-c lock_timeout={int(lock_timeout_ms)}"}
        self.engine: Engine = create_engine(self.url, **kwargs)
        if self.is_sqlite:
            event.listen(self.engine, "connect", _sqlite_pragmas)
            writer = _SqliteWriter()
            event.listen(self.engine, "before_cursor_execute", writer.before_execute)
            event.listen(self.engine, "checkin", writer.checkin)
        else:
            event.listen(self.engine, "connect", _note_checkin)
            event.listen(self.engine, "checkin", _note_checkin)
            event.listen(self.engine, "checkout", _ping_if_idle)
            event.listen(self.engine, "commit", _commit_relaxed)
        self._threads = threads
        self._executor: ThreadPoolExecutor | None = None

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits on success and rolls back on error (blocking: call it in ``run``)."""
        with Session(self.engine, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    @contextmanager
    def statement_session(self) -> Iterator[Session]:
        """A session for a unit of work of one statement (blocking: call it in ``run``). On
        PostgreSQL its connection is in autocommit: the statement commits on its own, without the
        BEGIN and COMMIT round trips of a transaction (a statement is atomic by itself). On SQLite,
        where those cost no round trip, it is an ordinary ``session``."""
        if self.is_sqlite:
            with self.session() as session:
                yield session
            return
        with self.engine.connect() as connection:
            alone = connection.execution_options(isolation_level="AUTOCOMMIT")
            with Session(bind=alone, expire_on_commit=False) as session:
                yield session
                session.commit()

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run blocking database code in one of the database's threads and await its result."""
        if self._executor is None:
            self._executor = ThreadPoolExecutor(self._threads, thread_name_prefix="gridline-db")
        call = functools.partial(contextvars.copy_context().run, fn, *args, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(self._executor, call)

    def create_all(self) -> None:
        """Create missing tables directly (tests); deployments use ``gridline db upgrade``."""
        from gridline.storage.directory_cache import install_triggers

        SQLModel.metadata.create_all(self.engine)
        with self.engine.begin() as connection:
            install_triggers(connection)
        if not self.is_sqlite:
            from gridline.storage.pg_job_schema import install_job_schema

            with self.engine.begin() as connection:
                install_job_schema(connection)

    def drop_all(self) -> None:
        SQLModel.metadata.drop_all(self.engine)

    def dispose(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
        self.engine.dispose()


_RELAXED = "gridline.relaxed_commit"


def relax_commit(session: Session) -> None:
    """PostgreSQL: this transaction's commit does not wait for its WAL to reach the disk (see
    ``kernel.work.replayable``). A database crash can forget it; nothing else can, and the next
    durable commit of any transaction flushes it.

    No round trip of its own: the setting travels with the COMMIT (``_commit_relaxed``), in one
    simple-protocol query; it used to be a ``SET LOCAL`` statement before the body's first one."""
    session.connection().info[_RELAXED] = True


def _commit_relaxed(connection: Any) -> None:
    # SQLAlchemy's commit event comes after the last flush and before the driver's commit(), which
    # then finds the transaction already ended and sends nothing (psycopg: commit() when idle).
    if not connection.info.pop(_RELAXED, False):
        return
    driver = connection.connection.dbapi_connection
    if driver is None or driver.info.transaction_status != _IN_TRANSACTION:
        return  # nothing was sent in this transaction (no BEGIN yet): nothing to commit
    driver.execute("SET LOCAL synchronous_commit TO off; COMMIT", prepare=False)


# psycopg.pq.TransactionStatus.INTRANS (the driver is imported only for PostgreSQL).
_IN_TRANSACTION = 2


# A connection that sat in the pool longer than this is pinged before it is handed out (a database
# restart or failover while it was idle is found there, and it is replaced without failing the unit
# of work). A connection in steady use is not: one cut under it fails that one unit of work, and
# SQLAlchemy then replaces every older connection of the pool; jobs are retried, and the inbox
# writer stores a batch again (``core.inbox_writer``).
PING_AFTER_IDLE_SECONDS = 1.0


def _note_checkin(_dbapi_connection: Any, record: Any) -> None:
    record.info["checked_in"] = time.monotonic()
    record.info.pop(_RELAXED, None)  # however its transaction ended, the next one starts durable


def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    if time.monotonic() - record.info.get("checked_in", 0.0) < PING_AFTER_IDLE_SECONDS:
        return
    try:
        dbapi_connection.execute("SELECT 1")
        dbapi_connection.rollback()
    except Exception as exc:  # the pool then throws this connection away and tries a fresh one
        raise DisconnectionError(str(exc)) from exc


# Set (in a task, before it calls ``Database.run``) for the units of work that store webhooks: on
# SQLite their transactions take the write lock before any other waiting writer (``_SqliteWriter``).
WRITES_FIRST: contextvars.ContextVar[bool] = contextvars.ContextVar("gridline_writes_first", default=False)


class _SqliteWriter:
    """SQLite has one writer at a time. Within this process, writers queue on a lock instead of on
    SQLite's busy handler, which polls by sleeping (1, 2, 5 … 100 ms) and so left a webhook's
    one-row INSERT waiting up to a tenth of a second after the lock was free. A transaction takes
    the lock at its first write and gives it back when its connection returns to the pool (after
    the commit or rollback); reads never take it (WAL: readers do not wait for the writer). Other
    processes on the same file (the CLI) still meet ``busy_timeout``.

    The webhooks' stores (:data:`WRITES_FIRST`) take the lock before the other waiting writers: a
    resident's webhook then waits at most for the transaction holding the lock, not behind every
    processing transaction queued for it (embedded mode runs both in one process). A writer that
    has waited :data:`FAIR_AFTER` seconds counts as first too, so a flood of webhooks never holds
    the processing back for longer than that."""

    FAIR_AFTER = 0.1

    def __init__(self) -> None:
        self._free = threading.Condition()
        self._held = False
        self._first_waiting = 0

    def before_execute(self, conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        info = conn.connection.info  # the pooled connection's: it outlives this Connection object
        if info.get("writing") or not _is_write(statement):
            return
        # Bounded like busy_timeout: past it, SQLite's own wait (and its error) decide, as before.
        info["writing"] = self._acquire(WRITES_FIRST.get(), timeout=30)

    def _acquire(self, first: bool, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self._free:
            if not first and not self._free.wait_for(self._open_to_others, self.FAIR_AFTER):
                first = True  # waited long enough: from now on it goes with the webhooks' stores
            if first:
                self._first_waiting += 1
                try:
                    if not self._free.wait_for(lambda: not self._held, max(0.0, deadline - time.monotonic())):
                        return False
                finally:
                    self._first_waiting -= 1
            self._held = True
            return True

    def _open_to_others(self) -> bool:
        return not self._held and not self._first_waiting

    def checkin(self, _dbapi_connection: Any, record: Any) -> None:
        if record.info.pop("writing", False):
            with self._free:
                self._held = False
                self._free.notify_all()


def _is_write(statement: str) -> bool:
    word = statement.lstrip()[:7].upper()
    return not (word.startswith("SELECT") or word.startswith("PRAGMA") or word.startswith("WITH"))


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the console read while a webhook writes; busy_timeout rides out short write locks.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
