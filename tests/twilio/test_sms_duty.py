"""A staff member with only a phone asks for their shifts by SMS (docs/twilio.md, Leaders by SMS):
「值班」 / 「duty」 answers what Telegram's /duty does — the next shifts, in local time, a shift held
for someone or handed to someone saying so — within the SMS budget."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from gridline.bots.twilio.sms_text import SEGMENT_BUDGET, segments
from gridline.storage.models import Staff
from tests.conftest import SHANGHAI, START
from tests.twilio.conftest import LI_XIUYING, YAO_XIAOYAN, TwilioWorld

THURSDAY = START.astimezone(SHANGHAI).date()  # the clock starts on a Thursday, 10:00 in Zhengzhou
FRIDAY = THURSDAY + timedelta(days=1)


@pytest.mark.parametrize("word", ["值班", "我的值班", "值班。", "值班？", "值班?", "duty", "DUTY", "duty? "])
async def test_duty_by_sms_lists_the_next_shifts_within_the_budget(world: TwilioWorld, word: str) -> None:
    """姚晓燕 (member of 桐柏社区第一网格, SMS and calls only): backup today 08:00–20:00, on duty tonight."""
    member = world.phone(YAO_XIAOYAN)
    await member.text(word)
    await world.settle()
    answer = member.expect_sms("值班").body
    assert f"周四 {THURSDAY:%m-%d} 08:00–20:00 · 桐柏社区第一网格（备班）" in answer, answer
    assert f"周四 {THURSDAY:%m-%d} 20:00–{FRIDAY:%m-%d} 08:00 · 桐柏社区第一网格" in answer, answer
    assert "另有" in answer, "the rest of the week is counted, not cut off silently"
    assert "（西" not in answer and "以东" not in answer, "the grid's short name: the SMS has no room"
    assert segments(answer) <= SEGMENT_BUDGET, answer
    assert world.cases() == [], "a staff command, not a report"


async def test_duty_by_sms_in_english_for_an_english_speaking_member(world: TwilioWorld) -> None:
    with world.services.db.session() as session:
        row = session.exec(select(Staff).where(Staff.code == "MBR-ZY01-01-1")).one()
        row.lang = "en"
        session.add(row)
        session.commit()
    member = world.phone(YAO_XIAOYAN)
    await member.text("duty")
    await world.settle()
    answer = member.expect_sms("shifts").body
    assert f"Thu {THURSDAY:%m-%d} 08:00–20:00 · 桐柏社区第一网格 (backup)" in answer, answer
    assert segments(answer) <= SEGMENT_BUDGET, answer


async def test_the_sms_help_names_the_duty_word(world: TwilioWorld) -> None:
    member = world.phone(YAO_XIAOYAN)
    await member.text("帮助")
    await world.settle()
    assert "值班" in member.expect_sms("12r").body


async def test_a_resident_texting_值班_is_not_read_a_staff_shift_list(world: TwilioWorld) -> None:
    resident = world.phone(LI_XIUYING)
    await resident.text("值班")
    await world.settle()
    assert "备班" not in resident.expect_sms().body
