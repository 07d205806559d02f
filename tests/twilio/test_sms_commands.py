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


@pytest.mark.parametrize(("number", "words", "lang"), [("+8613700000031", "停水了，一点水都没有", "zh-CN"),
                                                       ("+8613700000032", "Hello, there is no water at all", "en"),
                                                       ("+8613700000033", "谁是我的网格长", "zh-CN")])
async def test_by_sms_the_address_is_asked_for_without_a_location_to_share(
    world: TwilioWorld, number: str, words: str, lang: str
) -> None:
    """A text cannot share a location (SMS reads none): the question asks for the address only."""
    stranger = world.phone(number)
    await stranger.text(words)
    await world.settle()
    asked = stranger.expect_sms("住址" if lang == "zh-CN" else "address")
    assert "位置" not in asked.body and "location" not in asked.body, asked.body

    await stranger.text("没有这个地方路88号" if lang == "zh-CN" else "Nowhere Road 88")
    await world.settle()
    again = stranger.expect_sms()
    assert "位置" not in again.body and "location" not in again.body, again.body
