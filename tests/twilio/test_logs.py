"""SMS and voice conversations leave no auth token, full number or words in the logs (issue 10)."""

from __future__ import annotations

import logging

from tests.log_scan import production_logs
from tests.twilio.conftest import AUTH_TOKEN, LI_XIUYING, LONG_XIAOYAN, TwilioWorld


async def test_sms_and_voice_conversations_log_no_token_number_or_words(world: TwilioWorld) -> None:
    with production_logs(world.services.settings) as logs:
        logging.getLogger("gridline.test").info("scenario starts")
        world.prefer_channels("LDR-ZY01-01-1", "sms", "voice", "web")
        resident = world.phone(LI_XIUYING)
        await resident.text("俺们楼从昨天就没水了咋弄")
        await world.settle()
        call = await world.phone("+8617000010009").call()
        await call.say("楼道里的灯坏了好几天了")
        await world.settle()
        resident.expect_sms("已受理")
        leader = world.phone(LONG_XIAOYAN)
        assert leader.unread()
    digits = [n.lstrip("+") for n in (LI_XIUYING, LONG_XIAOYAN, "+8617000010009")]
    logs.assert_free_of(AUTH_TOKEN, *digits, *[d[2:] for d in digits], "没水了", "灯坏了")
