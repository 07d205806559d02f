"""A staff member with only a phone hands over a shift by SMS (docs/twilio.md, Leaders by SMS):
「交班 MBR2-ZY01-01-1 现在 08:00 家里有事」 does what Telegram's /cover does — a rota override in
their place, the colleague told, who is on duty and 「值班」 following it — and every answer, the
grammar when it does not parse included, names the SMS form (交班), not /cover, within the budget."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from gridline.bots.twilio.sms_grammar import cover_args
from gridline.bots.twilio.sms_text import SEGMENT_BUDGET, segments
from gridline.routing.rota import who_is_on_duty
from gridline.storage.models import AuditLog, DutyOverride, Staff
from tests.conftest import SHANGHAI, START
from tests.twilio.conftest import CHEN_YONG, YAO_XIAOYAN, TwilioWorld

THURSDAY = START.astimezone(SHANGHAI).date()  # the clock starts on a Thursday, 10:00 in Zhengzhou
FRIDAY = THURSDAY + timedelta(days=1)
TONGBAI_1 = "ZY01-01-1"


@pytest.mark.parametrize(
    ("text", "args"),
    [
        ("交班 MBR2-ZY01-01-1 现在 08:00 家里有事", "MBR2-ZY01-01-1 现在 08:00 家里有事"),
        ("交班MBR2-ZY01-01-1 20:00 08:00", "MBR2-ZY01-01-1 20:00 08:00"),
        ("  交班 ", ""),
        ("cover MBR2-ZY01-01-1 now 08:00", "MBR2-ZY01-01-1 now 08:00"),
        ("/cover MBR2-ZY01-01-1 now 08:00", "MBR2-ZY01-01-1 now 08:00"),
        ("COVER", ""),
        ("交班？", ""),
        ("coverage is bad", None),
        ("12 交班了", None),
        ("值班", None),
    ],
)
def test_the_cover_word_and_its_arguments(text: str, args: str | None) -> None:
    assert cover_args(text) == args


async def test_a_night_shift_is_handed_over_by_sms_and_duty_follows(world: TwilioWorld) -> None:
    """姚晓燕 (SMS first) is on duty tonight 20:00–08:00; at 21:00 she hands the rest to 陈勇."""
    world.clock.advance(timedelta(hours=11))
    member = world.phone(YAO_XIAOYAN)
    await member.text("交班 MBR2-ZY01-01-1 现在 08:00 家里有事")
    await world.settle()
    answer = member.expect_sms("已交班").body
    assert answer.startswith("已交班，陈勇代您值班"), answer
    assert f"周四 {THURSDAY:%m-%d} 21:00–{FRIDAY:%m-%d} 08:00 · 桐柏社区第一网格" in answer, answer
    assert segments(answer) <= SEGMENT_BUDGET, answer
    assert world.cases() == [], "a staff command, not a report"
    with world.services.db.session() as session:
        override = session.exec(select(DutyOverride)).one()
        assert (override.kind, override.staff_code, override.replaces_staff_code) == (
            "cover", "MBR2-ZY01-01-1", "MBR-ZY01-01-1")  # fmt: skip
        on_duty = who_is_on_duty(session, TONGBAI_1, START + timedelta(hours=12), world.services.settings.timezone,
                                 role="primary")  # fmt: skip
        assert [s.code for s in on_duty] == ["MBR2-ZY01-01-1"]
        entry = session.exec(select(AuditLog).where(AuditLog.action == "rota.cover")).one()
        assert entry.actor == "staff:MBR-ZY01-01-1" and entry.detail["reason"] == "家里有事"
    told = [m.body for m in world.fake.messages_to(CHEN_YONG)] + [c.to for c in world.fake.calls_to(CHEN_YONG)]
    assert told, "陈勇 is told on his first channel"
    await member.text("值班？")
    await world.settle()
    assert "已交陈勇代班" in member.expect_sms("值班").body


@pytest.mark.parametrize("text", ["交班", "交班 MBR2-ZY01-01-1", "交班 明天 早上"])
async def test_a_cover_that_does_not_parse_gets_the_sms_grammar(world: TwilioWorld, text: str) -> None:
    member = world.phone(YAO_XIAOYAN)
    await member.text(text)
    await world.settle()
    answer = member.expect_sms("交班 ").body
    assert "/cover" not in answer and "交班 MBR-" in answer, answer
    assert segments(answer) <= SEGMENT_BUDGET, answer
    with world.services.db.session() as session:
        assert session.exec(select(DutyOverride)).all() == []


async def test_a_refusal_comes_back_in_english_for_an_english_speaking_member(world: TwilioWorld) -> None:
    with world.services.db.session() as session:
        row = session.exec(select(Staff).where(Staff.code == "MBR-ZY01-01-1")).one()
        row.lang = "en"
        session.add(row)
        session.commit()
    member = world.phone(YAO_XIAOYAN)
    await member.text("cover MBR-ZY01-01-1 now 08:00")
    await world.settle()
    assert "yourself" in member.expect_sms().body


async def test_the_sms_help_names_the_cover_word(world: TwilioWorld) -> None:
    member = world.phone(YAO_XIAOYAN)
    await member.text("帮助")
    await world.settle()
    assert "交班" in member.expect_sms("12r").body
