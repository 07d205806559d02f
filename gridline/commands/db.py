"""``gridline db upgrade|current``."""

from __future__ import annotations

import typer

from gridline.settings import load_settings


def register(app: typer.Typer) -> None:
    db_app = typer.Typer(help="Database schema.", no_args_is_help=True)

    @db_app.command()
    def upgrade(revision: str = typer.Argument("head")) -> None:
        """Apply migrations up to REVISION (default: the newest)."""
        from gridline.storage.db import Database
        from gridline.storage.migrate import current_revision
        from gridline.storage.migrate import upgrade as do_upgrade

        db = Database(load_settings().database.url)
        do_upgrade(db, revision)
        typer.echo(f"database at revision {current_revision(db)}")

    @db_app.command()
    def current() -> None:
        """Print the database's schema revision."""
        from gridline.storage.db import Database
        from gridline.storage.migrate import current_revision

        typer.echo(current_revision(Database(load_settings().database.url)) or "empty")

    app.add_typer(db_app, name="db")
