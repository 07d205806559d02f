"""The ``gridline import`` and ``gridline demo`` commands, run as a user would."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from gridline.cli import app
from gridline.demo import DEMO_DIR
from gridline.storage.db import Database
from gridline.storage.models import DutyShift, Grid, Staff
from tests.directory.conftest import WriteFile, count

runner = CliRunner()


@pytest.fixture
def db_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path}/cli.db"
    monkeypatch.setenv("GRIDLINE_DATABASE__URL", url)
    monkeypatch.setenv("GRIDLINE_DEFAULT_LANGUAGE", "en")
    return url


def test_importing_the_demo_city_file_by_file(db_url: str) -> None:
    for kind, name in [("grids", "grids.geojson"), ("addresses", "addresses.csv"), ("staff", "staff.csv"),
                       ("rota", "rota.csv"), ("residents", "residents.csv")]:  # fmt: skip
        result = runner.invoke(app, ["import", kind, str(DEMO_DIR / name)])
        assert result.exit_code == 0, result.output
        assert "created" in result.output
    db = Database(db_url)
    assert count(db, Grid) == 24 and count(db, Staff) >= 40 and count(db, DutyShift) > 0


def test_errors_are_printed_and_the_exit_code_is_one(db_url: str, write_file: WriteFile) -> None:
    result = runner.invoke(app, ["import", "grids", str(write_file("bad.geojson", "{not json"))])
    assert result.exit_code == 1
    assert "nothing imported" in result.output and "not valid GeoJSON" in result.output
    assert count(Database(db_url), Grid) == 0


def test_a_rota_with_unknown_codes_fails_on_the_command_line(db_url: str, write_file: WriteFile) -> None:
    assert runner.invoke(app, ["import", "grids", str(DEMO_DIR / "grids.geojson")]).exit_code == 0
    rota = write_file(
        "rota.csv", "grid_code,staff_code,role,weekday,start,end\nGX01-01-1,NOBODY,primary,Mon,08:00,20:00\n"
    )
    result = runner.invoke(app, ["import", "rota", str(rota)])
    assert result.exit_code == 1 and "line 2: unknown staff code NOBODY" in result.output


def test_the_size_limit_can_be_set(db_url: str) -> None:
    result = runner.invoke(app, ["import", "grids", str(DEMO_DIR / "grids.geojson"), "--max-size-mb", "0.001"])
    assert result.exit_code == 1 and "limit" in result.output


def test_the_example_files_import(db_url: str) -> None:
    examples = DEMO_DIR.parent / "examples"
    steps = [("grids", "grids.geojson"), ("addresses", "addresses.csv"), ("staff", "staff.csv"),
             ("rota", "rota.csv"), ("rota", "rota.ics"), ("overrides", "overrides.csv"),
             ("residents", "residents.csv")]  # fmt: skip
    for kind, name in steps:
        result = runner.invoke(app, ["import", kind, str(examples / name)])
        assert result.exit_code == 0, f"{name}: {result.output}"


def test_demo_generate_writes_a_city_that_imports(db_url: str, tmp_path: Path) -> None:
    out = tmp_path / "city"
    result = runner.invoke(app, ["demo", "generate", "--grids", "30", "--out", str(out)])
    assert result.exit_code == 0, result.output
    for kind, name in [("grids", "grids.geojson"), ("addresses", "addresses.csv"), ("staff", "staff.csv"),
                       ("rota", "rota.csv")]:  # fmt: skip
        result = runner.invoke(app, ["import", kind, str(out / name)])
        assert result.exit_code == 0, result.output
    db = Database(db_url)
    with db.session() as session:
        base = session.exec(select(Grid).where(Grid.level == 3)).all()
    assert len(base) == 30


def test_demo_load_fills_the_configured_database(db_url: str) -> None:
    result = runner.invoke(app, ["demo", "load"])
    assert result.exit_code == 0, result.output
    assert "demo data loaded" in result.output
    assert count(Database(db_url), Grid) == 24
