"""Small pure rules: when a webhook can be registered, how Telegram's phone numbers are read."""

from __future__ import annotations

import pytest

from gridline.bots.telegram.bots import is_public_url
from gridline.bots.telegram.linking import hash_code, telegram_phone_to_e164


@pytest.mark.parametrize(
    ("url", "public"),
    [
        ("https://gridline.example.org", True),
        ("https://1.2.3.4:8443/base", True),
        ("http://127.0.0.1:8000", False),
        ("http://localhost:8000", False),
        ("http://app.localhost", False),
        ("http://0.0.0.0:8000", False),
        ("http://[::1]:8000", False),
        ("http://192.168.1.20:8000", False),
        ("", False),
    ],
)
def test_only_addresses_telegram_can_reach_get_a_webhook(url, public):
    assert is_public_url(url) is public


@pytest.mark.parametrize(
    ("shared", "e164"),
    [
        ("8617000000003", "+8617000000003"),
        ("+86 170 0000 0003", "+8617000000003"),
        ("+1-202-555-0143", "+12025550143"),
        ("12345", None),
        ("", None),
    ],
)
def test_telegram_phone_numbers_become_e164(shared, e164):
    assert telegram_phone_to_e164(shared) == e164


def test_link_codes_are_compared_case_and_dash_insensitively():
    assert hash_code("abcd-efgh-jk", "k") == hash_code("ABCDEFGHJK", "k")
    assert hash_code("ABCDEFGHJK", "k") != hash_code("ABCDEFGHJK", "other-key")
