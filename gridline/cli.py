"""The ``gridline`` command line. Each area adds its own commands through ``register(app)``."""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(help="Gridline: residents reach their grid leader.", no_args_is_help=True)

# Modules exposing ``register(app: typer.Typer)``; each adds its commands or sub-command groups.
COMMAND_MODULES = (
    "gridline.commands.serve",
    "gridline.commands.db",
    "gridline.commands.importing",
    "gridline.commands.demo",
    "gridline.nlu.cli",
    "gridline.console.cli",
    "gridline.console.inbox.cli",
    "gridline.bots.telegram.cli",
)


def _register_all() -> None:
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:  # an area not built yet
                continue
            raise
        module.register(app)


_register_all()


def operator_error(exc: BaseException) -> str | None:
    """One plain line (or a few) for what an operator got wrong in the settings or the database URL,
    instead of a 400-line traceback; None for anything else (a bug keeps its traceback)."""
    import tomllib

    from pydantic import ValidationError
    from pydantic_settings import SettingsError
    from sqlalchemy.exc import OperationalError

    if isinstance(exc, SettingsError):
        return (f"{exc} ({exc.__cause__}); a list or a table in a GRIDLINE_* variable is JSON, "
                """e.g. GRIDLINE_OPEN311__API_KEYS='["key-1"]'""")
    if isinstance(exc, ValidationError):
        return f"the settings are not valid (config file or GRIDLINE_* variables): {exc}"
    if isinstance(exc, tomllib.TOMLDecodeError):
        return f"the settings file (GRIDLINE_CONFIG or config/gridline.toml) is not valid TOML: {exc}"
    if isinstance(exc, FileNotFoundError) and "GRIDLINE_CONFIG" in str(exc):
        return str(exc)
    if isinstance(exc, OperationalError):
        reason = str(exc.orig or exc).strip().splitlines()
        return "cannot reach the database ([database] url, GRIDLINE_DATABASE__URL): " + " ".join(
            line.strip() for line in reason[:2])
    return None


def main() -> None:
    try:
        app()
    except Exception as exc:
        message = operator_error(exc)
        if message is None:
            raise
        typer.echo(f"gridline: {message}", err=True)
        raise SystemExit(2) from None
