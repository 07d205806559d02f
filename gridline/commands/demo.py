"""``gridline demo generate|load``: synthetic cities for scale tests, and the sample city."""

from __future__ import annotations

from pathlib import Path

import typer

from gridline.i18n import t
from gridline.importers import ImportFailed
from gridline.settings import load_settings
from gridline.storage.db import Database

demo_app = typer.Typer(help="Demo data: the Zhengzhou high-tech zone sample city and synthetic cities.")


@demo_app.command("generate")
def generate(
    grids: int = typer.Option(..., "--grids", min=1, help="Number of base grids."),
    out: Path = typer.Option(Path("var/synthetic"), "--out", help="Directory for the generated files."),
) -> None:
    """Write a synthetic city (grids.geojson, addresses.csv, staff.csv, rota.csv) for scale tests."""
    from gridline.demo.synthetic import write_city

    write_city(grids, out)
    typer.echo(t("directory.demo.generated", load_settings().default_language, grids=grids, out=str(out)))


@demo_app.command("load")
def load(
    directory: Path = typer.Option(None, "--dir", help="A demo city directory (default: config/demo)."),
) -> None:
    """Load a demo city (the sample city by default) into the configured database."""
    from gridline.demo import load_demo

    settings = load_settings()
    db = Database(settings.database.url)
    try:
        for summary in load_demo(db, settings, directory=directory):
            typer.echo(summary.text(settings.default_language))
    except ImportFailed as failed:
        typer.echo(failed.text(settings.default_language), err=True)
        raise typer.Exit(1) from None
    finally:
        db.dispose()
    typer.echo(t("directory.demo.loaded", settings.default_language, url=db.url))


def register(app: typer.Typer) -> None:
    """Add the ``demo`` command group to the ``gridline`` command line."""
    app.add_typer(demo_app, name="demo")
