"""The console fixtures (tests/console) for the visit pages, with 走千家 on (tests/visits/conftest.py)."""

from tests.console.conftest import anonymous, app, client_for, console_services, factory

__all__ = ["anonymous", "app", "client_for", "console_services", "factory"]
