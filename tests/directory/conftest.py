"""Fixtures for the directory tests: empty and demo-loaded SQLite databases, files written on the fly."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import SQLModel, func, select

from gridline.demo import load_demo
from gridline.settings import Settings
from gridline.storage.db import Database

NOW = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
WriteFile = Callable[..., Path]


@pytest.fixture
def empty_db(tmp_path: Path) -> Iterator[Database]:
    db = Database(f"sqlite:///{tmp_path}/t.db")
    db.create_all()
    yield db
    db.dispose()


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo city loaded once; each test gets its own copy."""
    path = tmp_path_factory.mktemp("directory-demo") / "demo.db"
    db = Database(f"sqlite:///{path}")
    load_demo(db, Settings(), now=NOW)
    db.dispose()
    return path


@pytest.fixture
def demo_db(tmp_path: Path, demo_template: Path) -> Iterator[Database]:
    path = tmp_path / "demo.db"
    shutil.copyfile(demo_template, path)
    db = Database(f"sqlite:///{path}")
    yield db
    db.dispose()


@pytest.fixture
def write_file(tmp_path: Path) -> WriteFile:
    """``write_file("x.csv", text, encoding="gbk")`` → path of a file holding ``text``."""

    def write(name: str, text: str | bytes, encoding: str = "utf-8") -> Path:
        path = tmp_path / name
        path.write_bytes(text if isinstance(text, bytes) else text.encode(encoding))
        return path

    return write


def count(db: Database, table: type[SQLModel]) -> int:
    with db.session() as session:
        return int(session.exec(select(func.count()).select_from(table)).one())
