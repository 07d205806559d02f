"""Which number the STOP confirmation and a call's goodbyes point the resident to: 「本号码」 only
when the SMS and voice hotlines are one number (docs/twilio.md)."""

from __future__ import annotations

from gridline.bots.twilio.hotlines import opted_out_phrase, text_us_goodbye
from gridline.i18n.phrases import render
from gridline.settings import Settings


def hotlines(sms: str, voice: str) -> Settings:
    return Settings(twilio={"sms_number": sms, "voice_number": voice})


def test_one_number_for_texts_and_calls_is_this_number() -> None:
    for settings in (hotlines("+8637112345678", "+86 371 1234 5678"), hotlines("+8637112345678", "")):
        assert "拨打本号码" in render(opted_out_phrase(settings), "zh-CN")
        assert "发短信到本号码" in text_us_goodbye(settings, "twilio.voice.no_input_goodbye", "zh-CN")


def test_two_numbers_name_the_other_one_written_in_a_text_and_read_out_on_a_call() -> None:
    settings = hotlines("+8610690000001", "+8637112345678")
    assert "拨打 0371 1234 5678 仍可" in render(opted_out_phrase(settings), "zh-CN")
    assert "call 0371 1234 5678" in render(opted_out_phrase(settings), "en")
    for key in ("twilio.voice.no_input_goodbye", "twilio.voice.no_voicemail", "twilio.voice.failed"):
        said = text_us_goodbye(settings, key, "zh-CN")
        assert "本号码" not in said and "发短信到 1 0 6 9 0 0 0 0 0 0 1" in said, said
        assert "text 1 0 6 9 0 0 0 0 0 0 1" in text_us_goodbye(settings, key, "en")


def test_without_an_sms_hotline_a_call_does_not_invite_texts() -> None:
    settings = hotlines("", "+8637112345678")
    for key in ("twilio.voice.no_input_goodbye", "twilio.voice.no_voicemail", "twilio.voice.failed"):
        said = text_us_goodbye(settings, key, "zh-CN")
        assert "短信" not in said and "再见" in said, said
