"""The Telegram world (tests/telegram) for the visit scripts, with 走千家 on (tests/visits/conftest.py)."""

from tests.telegram.conftest import fake_api, framework, make_telegram_world, telegram_world

__all__ = ["fake_api", "framework", "make_telegram_world", "telegram_world"]
