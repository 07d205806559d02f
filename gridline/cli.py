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


def main() -> None:
    app()
