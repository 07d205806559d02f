"""``storage.prepared``: a prebuilt statement run straight on the driver gives what SQLAlchemy's
``Connection.execute`` gives (the same values, of the same types, on SQLite and PostgreSQL), inside
the session's transaction, seen by the statement counter, with SQLAlchemy's errors."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import (
    Boolean,
    Column,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    bindparam,
    exc,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.orm import registry
from sqlmodel import Session

from gridline.storage.db import Database
from gridline.storage.prepared import Prepared
from gridline.storage.statements import StatementCounter
from gridline.storage.types import JSONType, UTCDateTime
from tests.conftest import _pg_admin, _pg_url, _postgres_available, need_service

metadata = MetaData()
things = Table(
    "prepared_things",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(40), nullable=False, unique=True),
    Column("at", UTCDateTime, nullable=True),
    Column("data", JSONType, nullable=True),
    Column("flag", Boolean, nullable=False),
    Column("ratio", Float, nullable=True),
    Column("status", String(16), nullable=False),
    Column("note", Text, nullable=True),
)
ALL = tuple(things.columns)
INSERT = Prepared(insert(things).returning(*ALL))
BY_NAME = Prepared(select(*ALL).where(things.c.name == bindparam("name")))
LABELLED = Prepared(select(things.c.id.label("thing_id"), func.count().over().label("total"))
                    .where(things.c.status.in_(["new", "open"])).order_by(things.c.id))
CLOSE = Prepared(update(things).where(things.c.name == bindparam("thing"), things.c.status.in_(["new", "open"]))
                 .values(status="closed", at=bindparam("now")))



class Thing:
    """The table mapped for the ORM (to see what a run flushes)."""

    name: str
    status: str


registry().map_imperatively(Thing, things)

SHANGHAI = timezone(timedelta(hours=8))
AT = datetime(2026, 12, 2, 9, 30, 15, 123456, tzinfo=SHANGHAI)


@pytest.fixture(params=["sqlite", "postgres"])
def db(request: pytest.FixtureRequest, tmp_path) -> Iterator[Database]:
    name = ""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'prepared.db'}"
    else:
        need_service("PostgreSQL", _postgres_available(), "start it or set GRIDLINE_TEST_POSTGRES_URL")
        name = f"gridline_prep_{uuid.uuid4().hex[:10]}"
        _pg_admin(f'CREATE DATABASE "{name}"')
        url = _pg_url(name)
    database = Database(url)
    metadata.create_all(database.engine)
    yield database
    database.dispose()
    if name:
        _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _values(name: str, **changes: object) -> dict[str, object]:
    return {"name": name, "at": AT, "data": {"words": ["停水", 3], "nested": {"ok": True}}, "flag": True,
            "ratio": 0.25, "status": "new", "note": None, **changes}


def _by_sqlalchemy(session: Session, name: str) -> tuple[object, ...]:
    row = session.connection().execute(select(*ALL).where(things.c.name == name)).one()
    return tuple(row)


def test_values_round_trip_as_sqlalchemy_gives_them(db: Database):
    with db.session() as session:
        inserted = INSERT.rows(session, _values("a"))
        nulls = INSERT.rows(session, _values("b", at=None, data=None, ratio=None, flag=False, note="说明"))
        session.connection().execute(insert(things), _values("c"))  # written by SQLAlchemy itself
    with db.session() as session:
        for name, returned in (("a", inserted[0]), ("b", nulls[0])):
            read = BY_NAME.first(session, {"name": name})
            expected = _by_sqlalchemy(session, name)
            assert read == expected == returned
            assert [type(v) for v in read or ()] == [type(v) for v in expected]
        assert BY_NAME.first(session, {"name": "c"}) == _by_sqlalchemy(session, "c")
        a = BY_NAME.first(session, {"name": "a"})
        b = BY_NAME.first(session, {"name": "b"})
    assert a is not None and b is not None
    # The model's UTC datetime: stored as UTC, read back aware in UTC (SQLite keeps no zone).
    assert a[2] == AT and a[2].tzinfo is UTC
    assert a[3] == {"words": ["停水", 3], "nested": {"ok": True}} and a[4] is True and a[5] == 0.25
    # None in a JSON column is JSON null (SQLAlchemy's JSON default), read back as None.
    assert b[2] is None and b[3] is None and b[4] is False and b[5] is None and b[7] == "说明"


def test_a_naive_datetime_is_refused_as_the_column_type_refuses_it(db: Database):
    with pytest.raises(ValueError, match="naive"), db.session() as session:
        INSERT.rows(session, _values("naive", at=datetime(2026, 12, 2, 9, 30)))


def test_fixed_in_lists_labels_and_rowcounts(db: Database):
    with db.session() as session:
        for name in ("a", "b", "c"):
            INSERT.rows(session, _values(name))
        assert [row[0] for row in LABELLED.rows(session)] == [1, 2, 3]
        assert LABELLED.rows(session)[0][1] == 3
        assert CLOSE.run(session, {"thing": "b", "now": AT}) == 1
        assert CLOSE.run(session, {"thing": "b", "now": AT}) == 0  # closed already: the guard holds
        assert CLOSE.run(session, {"thing": "nobody", "now": AT}) == 0
        assert [row[0] for row in LABELLED.rows(session)] == [1, 3]
        assert BY_NAME.scalar(session, {"name": "nobody"}) is None
        assert BY_NAME.first(session, {"name": "nobody"}) is None


def test_it_runs_in_the_sessions_transaction(db: Database):
    with pytest.raises(RuntimeError), db.session() as session:
        INSERT.rows(session, _values("rolled back"))
        assert BY_NAME.first(session, {"name": "rolled back"}) is not None  # seen inside the transaction
        raise RuntimeError("the unit of work fails")
    with db.session() as session:
        assert BY_NAME.first(session, {"name": "rolled back"}) is None
    with db.statement_session() as session:  # autocommit on PostgreSQL: the statement commits alone
        INSERT.rows(session, _values("alone"))
    with db.session() as session:
        assert BY_NAME.first(session, {"name": "alone"}) is not None


def test_a_run_flushes_pending_changes_first_only_when_made_to(db: Database):
    status_of = select(things.c.status).where(things.c.name == bindparam("thing"))
    flushing, not_flushing = Prepared(status_of, flush=True), Prepared(status_of)
    with db.session() as session:
        INSERT.rows(session, _values("a"))
        thing = session.get(Thing, 1)
        assert thing is not None
        thing.status = "open"  # pending in the session
        assert not_flushing.scalar(session, {"thing": "a"}) == "new"  # as session.connection().execute
        assert flushing.scalar(session, {"thing": "a"}) == "open"  # as Session.execute
        thing.status = "closed"
        with session.no_autoflush:
            assert flushing.scalar(session, {"thing": "a"}) == "open"
    with db.session() as session:
        assert not_flushing.scalar(session, {"thing": "a"}) == "closed"


def test_the_statement_counter_sees_every_statement(db: Database):
    with db.session() as session, StatementCounter(db.engine) as counted:
        INSERT.rows(session, _values("a"))
        CLOSE.run(session, {"thing": "a", "now": AT})
        BY_NAME.first(session, {"name": "a"})
    assert counted.summary() == {"INSERT": 1, "UPDATE": 1, "SELECT": 1}


def test_driver_errors_are_sqlalchemys(db: Database):
    with db.session() as session:
        INSERT.rows(session, _values("a"))
    with pytest.raises(exc.IntegrityError), db.session() as session:
        INSERT.rows(session, _values("a"))  # the name is unique
    with db.session() as session:  # the connection is fine afterwards
        assert BY_NAME.scalar(session, {"name": "a"}) == 1


def test_what_it_does_not_do_is_refused():
    with pytest.raises(NotImplementedError, match="IN list"):
        Prepared(select(things.c.id).where(things.c.status.in_(bindparam("statuses", expanding=True))))._plan(
            _sqlite_dialect(), {"statuses": ["new"]})
    with pytest.raises(exc.InvalidRequestError, match="required"):
        BY_NAME._plan(_sqlite_dialect(), {})


def test_text_statements_run(db: Database):
    with db.session() as session:
        INSERT.rows(session, _values("a"))
        assert Prepared(text("UPDATE prepared_things SET note = :note")).run(session, {"note": "x"}) == 1
        assert BY_NAME.first(session, {"name": "a"})[7] == "x"  # type: ignore[index]
        # No columns named: the rows as the driver gives them.
        assert Prepared(text("SELECT id, note FROM prepared_things WHERE name = :n")).rows(session, {"n": "a"}) == [
            (1, "x")]
        assert Prepared(text("SELECT id FROM prepared_things WHERE name = :n")).scalar(session, {"n": "b"}) is None


def _sqlite_dialect():
    from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite

    return SQLiteDialect_pysqlite()
