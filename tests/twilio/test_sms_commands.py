"""What the SMS HELP answer tells a resident to text works by SMS: the words, and the Telegram-style
``/status`` ``/lang`` ``/help`` that the typed help text names (they were read as reports)."""

from __future__ import annotations

import pytest

from tests.twilio.conftest import LI_XIUYING, LONG_XIAOYAN, TwilioWorld


async def test_the_sms_help_answer_names_words_that_work_by_sms(world: TwilioWorld) -> None:
    resident = world.phone(LI_XIUYING)
    await resident.text("帮助")
    await world.settle()
    answer = resident.expect_sms("状态")
    assert "/status" not in answer.body and "/lang" not in answer.body

    await resident.text("HELP")
    await world.settle()
    assert "/status" not in resident.expect_sms("状态").body


@pytest.mark.parametrize("text", ["/status", "/STATUS", "/help", "/lang", "／status"])
async def test_a_slash_command_by_sms_is_a_command_not_a_report(world: TwilioWorld, text: str) -> None:
    world.prefer_channels("LDR-ZY01-01-1", "sms", "voice", "web")
    resident, leader = world.phone(LI_XIUYING), world.phone(LONG_XIAOYAN)
    await resident.text(text)
    await world.settle()
    assert world.cases() == []  # not a case, and nobody paged
    leader.expect_no_sms()
    resident.expect_sms()  # answered (status, help, language set)


async def test_slash_lang_by_sms_switches_the_language(world: TwilioWorld) -> None:
    resident = world.phone(LI_XIUYING)
    await resident.text("/lang")
    await world.settle()
    resident.expect_sms("English")
    await resident.text("/lang")
    await world.settle()
    resident.expect_sms("中文")
