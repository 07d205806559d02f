"""The production log handler hides secrets, bot-token URLs and phone numbers at every level."""

from __future__ import annotations

import logging

from tests.conftest import base_settings
from tests.log_scan import production_logs

TOKEN = "100001:TEST-city-bot-token"
SETTINGS = base_settings(telegram={"bots": {"city": {"token": TOKEN, "secret_token": "hook-secret-123"}}},
                         twilio={"auth_token": "twilio-auth-token-1"})


def test_provider_info_lines_are_dropped_and_their_warnings_redacted() -> None:
    with production_logs(SETTINGS) as logs:
        httpx_log = logging.getLogger("httpx")
        httpx_log.info('HTTP Request: POST https://api.telegram.org/bot%s/getMe "HTTP/1.1 200 OK"', TOKEN)
        httpx_log.warning('HTTP Request: POST https://api.telegram.org/bot%s/sendMessage "HTTP/1.1 502"', TOKEN)
        httpx_log.warning("POST https://api.telegram.org/bot987654:AAAunknown_token-x/getMe")
    assert len(logs.lines) == 2 and all("/bot<redacted>/" in line for line in logs.lines)
    logs.assert_free_of(TOKEN, "AAAunknown_token-x", "HTTP/1.1 200")


def test_phone_numbers_are_masked_at_every_level_even_in_tracebacks() -> None:
    with production_logs(SETTINGS) as logs:
        log = logging.getLogger("gridline.core.inbound_log")
        log.warning("not answering sms +8613812345678: rate limited")
        log.error("texting 138 1234 5678 failed")
        try:
            raise RuntimeError("refused by twilio-auth-token-1 for 13812345678")
        except RuntimeError:
            log.exception("delivery failed")
    logs.assert_free_of("13812345678", "1234 5678", "twilio-auth-token-1")
    assert any("+86138****5678" in line for line in logs.lines)


def test_the_access_log_keeps_the_path_but_not_the_query() -> None:
    with production_logs(SETTINGS) as logs:
        logging.getLogger("uvicorn.access").info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5", "GET",
                                                 "/console/conversations?q=王芳", "1.1", 200)
    assert any('"GET /console/conversations HTTP/1.1" 200' in line for line in logs.lines)
    logs.assert_free_of("王芳")
