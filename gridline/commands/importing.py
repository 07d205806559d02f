"""``gridline import grids|addresses|staff|rota|overrides|residents|households FILE``.

Each prints what was written, or every problem found (exit code 1, nothing written).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import typer

from gridline.clock import SystemClock
from gridline.importers import ImportFailed, ImportSummary
from gridline.settings import Settings, load_settings
from gridline.storage.db import Database

import_app = typer.Typer(help="Import grids, addresses, staff, rotas and residents (all-or-nothing).")

FileArg = typer.Argument(..., help="The file to import.")
MaxSize = typer.Option(20.0, "--max-size-mb", help="Refuse files larger than this many megabytes.")


def _run(action: Callable[[Database, Settings], ImportSummary]) -> None:
    """Run one import against the configured database and report in the configured language."""
    settings = load_settings()
    db = Database(settings.database.url)
    lang = settings.default_language
    try:
        db.create_all()
        summary = action(db, settings)
    except ImportFailed as failed:
        typer.echo(failed.text(lang), err=True)
        raise typer.Exit(1) from None
    finally:
        db.dispose()
    typer.echo(summary.text(lang))


def _bytes(megabytes: float) -> int:
    return int(megabytes * 1024 * 1024)


@import_app.command("grids")
def grids(file: Path = FileArg, max_size_mb: float = MaxSize) -> None:
    """Grids from a GeoJSON FeatureCollection (properties: code, name, level, parent)."""
    from gridline.importers.geojson import import_grids

    _run(lambda db, _s: import_grids(db, file, max_bytes=_bytes(max_size_mb)))


@import_app.command("addresses")
def addresses(file: Path = FileArg, max_size_mb: float = MaxSize) -> None:
    """The address directory (CSV: address, aliases, grid_code, lat, lon, compound)."""
    from gridline.importers.addresses import import_addresses

    _run(lambda db, _s: import_addresses(db, file, max_bytes=_bytes(max_size_mb)))


@import_app.command("staff")
def staff(file: Path = FileArg, max_size_mb: float = MaxSize) -> None:
    """Staff and their ordered channels (CSV: code, name, role, grid_code, …, channels)."""
    from gridline.importers.staff import import_staff

    now = SystemClock().now()
    _run(lambda db, _s: import_staff(db, file, now=now, max_bytes=_bytes(max_size_mb)))


@import_app.command("rota")
def rota(
    file: Path = FileArg,
    max_size_mb: float = MaxSize,
    tz: str = typer.Option("", help="Time zone of the rota (default: the configured timezone)."),
    grid: str = typer.Option("", help="iCalendar: grid code for events that name none."),
    role: str = typer.Option("primary", help="iCalendar: role for events that name none."),
) -> None:
    """Weekly shifts from CSV, or recurring shifts from iCalendar (.ics with RRULE)."""
    from gridline.importers.rota import import_rota

    _run(
        lambda db, s: import_rota(
            db, file, tz=tz or s.timezone, max_bytes=_bytes(max_size_mb), default_grid=grid or None, default_role=role
        )
    )


@import_app.command("overrides")
def overrides(
    file: Path = FileArg,
    max_size_mb: float = MaxSize,
    tz: str = typer.Option("", help="Time zone of the times in the file (default: the configured timezone)."),
) -> None:
    """Rota overrides: leave, swap, cover (CSV)."""
    from gridline.importers.rota import import_overrides

    _run(lambda db, s: import_overrides(db, file, tz=tz or s.timezone, max_bytes=_bytes(max_size_mb)))


@import_app.command("residents")
def residents(file: Path = FileArg, max_size_mb: float = MaxSize) -> None:
    """Residents / households (CSV: name, phone, address, grid_code, lang, telegram)."""
    from gridline.importers.residents import import_residents

    now = SystemClock().now()
    _run(lambda db, _s: import_residents(db, file, now=now, max_bytes=_bytes(max_size_mb)))


@import_app.command("households")
def households(file: Path = FileArg, max_size_mb: float = MaxSize) -> None:
    """The household roster (CSV: grid_code, building, unit, room, tags, members, family, helper …)."""
    from gridline.importers.households import import_households

    now = SystemClock().now()
    _run(lambda db, settings: import_households(db, file, settings, now=now, max_bytes=_bytes(max_size_mb)))


def register(app: typer.Typer) -> None:
    """Add the ``import`` command group to the ``gridline`` command line."""
    app.add_typer(import_app, name="import")
