"""The Alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

from gridline.storage.db import Database
from gridline.storage.migrate import current_revision, upgrade
from gridline.storage.pg_job_schema import is_job_table
from tests.conftest import _pg_admin, _pg_url, _postgres_available, need_service


def _gridline_tables(name: str | None, type_: str, _parent: object) -> bool:
    return not (type_ == "table" and is_job_table(name))


def _assert_no_drift(db: Database) -> None:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": False, "include_name": _gridline_tables})
        diff = compare_metadata(context, SQLModel.metadata)
    assert diff == [], f"models and migrations differ: {diff}"


def test_sqlite_upgrade_matches_models(tmp_path):
    db = Database(f"sqlite:///{tmp_path}/m.db")
    upgrade(db)
    assert current_revision(db) is not None
    _assert_no_drift(db)
    db.dispose()


@pytest.mark.postgres
def test_postgres_upgrade_matches_models():
    need_service("PostgreSQL", _postgres_available(), "start PostgreSQL or set GRIDLINE_TEST_POSTGRES_URL")
    name = f"gridline_m_{uuid.uuid4().hex[:10]}"
    _pg_admin(f'CREATE DATABASE "{name}"')
    try:
        db = Database(_pg_url(name))
        upgrade(db)
        _assert_no_drift(db)
        db.dispose()
    finally:
        _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
