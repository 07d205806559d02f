"""Schema migrations with Alembic (``gridline db upgrade``)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from gridline.storage.db import Database


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", "gridline.storage:migrations")
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(db: Database, revision: str = "head") -> None:
    """Bring the database schema to ``revision``."""
    with db.engine.begin() as connection:
        config = alembic_config(db.url)
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def current_revision(db: Database) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with db.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
