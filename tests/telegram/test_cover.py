"""A leader hands over a shift on Telegram: ``/cover MBR-GX01-01-2 12-04 08:00 20:00 家里有事``.

The hand-over is a rota override (cover, in the leader's place): the covering colleague is told,
``/duty`` moves the shift from one to the other, who is on duty changes, and it is audited.
"""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from gridline.routing.rota import who_is_on_duty
from gridline.storage.models import AuditLog, DutyOverride, DutyShift
from tests.conftest import SHANGHAI, START
from tests.telegram.conftest import TelegramWorld
from tests.telegram.test_conversations import GX01_01_2, LIAO_ZHIQIANG

YE_BAOGUO = 7000000003  # 叶保国, member of GX01-01-2 (廖志强's grid), on Telegram
FU_ZIHAN = 7000000022  # 傅子涵, the level-2 contact of GX01-01: no shift of her own
FRIDAY = START.astimezone(SHANGHAI).date() + timedelta(days=1)  # the clock starts on a Thursday


def lines_with(text: str, *words: str) -> list[str]:
    return [line for line in text.splitlines() if all(w in line for w in words)]


async def test_a_leader_hands_a_shift_to_a_member_of_the_grid_who_is_told_and_duty_follows(
    telegram_world: TelegramWorld,
):
    world = telegram_world
    leader = world.person(LIAO_ZHIQIANG, "志强")
    member = world.person(YE_BAOGUO, "保国")
    friday = f"{FRIDAY:%m-%d}"

    await leader.says(f"/cover MBR-GX01-01-2 {friday} 08:00 20:00 家里有事")
    await world.drain()

    answer = leader.last_message.text
    assert answer.startswith("已交班，叶保国代您值班"), answer
    assert f"周五 {friday} 08:00–20:00 · 莲花社区第二网格" in answer and "已通知叶保国" in answer
    told = member.last_message.text
    assert told.startswith("廖志强请您代班") and f"周五 {friday} 08:00–20:00" in told and "家里有事" in told

    await member.says("/duty")
    await world.drain()
    covering = lines_with(member.last_message.text, f"周五 {friday} 08:00–20:00")
    assert any(line.endswith("西）（代廖志强）") for line in covering), member.last_message.text  # whose shift

    await leader.says("/duty")
    await world.drain()
    handed = lines_with(leader.last_message.text, f"周五 {friday} 08:00–20:00")
    assert handed and all(line.endswith("西）（已交叶保国代班）") for line in handed), leader.last_message.text
    assert lines_with(leader.last_message.text, f"周五 {friday} 20:00"), "his night backup stays his"

    friday_morning = START + timedelta(days=1)
    with world.services.db.session() as session:
        on_duty = who_is_on_duty(session, GX01_01_2, friday_morning, world.services.settings.timezone)
        assert [s.code for s in on_duty] == ["MBR-GX01-01-2"]
        override = session.exec(select(DutyOverride)).one()
        assert (override.kind, override.staff_code, override.replaces_staff_code, override.role) == (
            "cover", "MBR-GX01-01-2", "LDR-GX01-01-2", "primary")  # fmt: skip
        entry = session.exec(select(AuditLog).where(AuditLog.action == "rota.cover")).one()
        assert entry.actor == "staff:LDR-GX01-01-2" and entry.target_id == str(override.id)
        assert entry.detail["cover"] == "MBR-GX01-01-2" and entry.detail["reason"] == "家里有事"


async def test_a_night_from_now_is_handed_over_until_the_morning(telegram_world: TelegramWorld):
    world = telegram_world
    leader = world.person(LIAO_ZHIQIANG, "志强")
    world.clock.advance(timedelta(hours=11))  # Thursday 21:00: his backup night shift (20:00–08:00)
    await leader.says("/cover MBR-GX01-01-2 现在 08:00")
    await world.drain()
    answer = leader.last_message.text
    thursday = START.astimezone(SHANGHAI).date()
    assert f"周四 {thursday:%m-%d} 21:00–{FRIDAY:%m-%d} 08:00 · 莲花社区第二网格" in answer, answer
    assert "（备班）" in answer
    member = world.person(YE_BAOGUO, "保国")
    await member.says("/duty")
    await world.drain()
    assert lines_with(member.last_message.text, f"周四 {thursday:%m-%d} 21:00", "（备班，代廖志强）"), (
        member.last_message.text)  # fmt: skip


async def test_a_cover_is_refused_with_a_reason_and_records_nothing(telegram_world: TelegramWorld):
    world = telegram_world
    leader = world.person(LIAO_ZHIQIANG, "志强")
    contact = world.person(FU_ZIHAN, "子涵")
    friday = f"{FRIDAY:%m-%d}"
    refusals = {
        f"/cover LDR-GX01-01-1 {friday} 08:00 20:00": "程振华不是莲花社区第二网格",  # another grid's leader
        f"/cover NOBODY-1 {friday} 08:00 20:00": "人员编号 NOBODY-1 不存在",
        f"/cover LDR-GX01-01-2 {friday} 08:00 20:00": "不能把班交给自己",
        "/cover MBR-GX01-01-2 2025-01-06 08:00 20:00": "已经过去",
        f"/cover MBR-GX01-01-2 {friday} 08:00 {FRIDAY + timedelta(days=9):%m-%d} 08:00": "最多交 7 天",
        "/cover MBR-GX01-01-2 明天": "交班的写法：/cover 人员编号 开始 结束",
        "/cover": "交班的写法",
    }
    for command, said in refusals.items():
        await leader.says(command)
        await world.drain()
        assert said in leader.last_message.text, (command, leader.last_message.text)
    await contact.says(f"/cover L1-GX01 {friday} 08:00 20:00")
    await world.drain()
    assert "没有值班，无班可交" in contact.last_message.text
    with world.services.db.session() as session:
        assert session.exec(select(DutyOverride)).all() == []
        assert session.exec(select(AuditLog).where(AuditLog.action == "rota.cover")).all() == []


async def test_cover_answers_in_english_for_an_english_speaking_leader(telegram_world: TelegramWorld):
    world = telegram_world
    leader = world.person(LIAO_ZHIQIANG, "志强")
    await leader.says("/lang en")
    await world.drain()
    await leader.says(f"/cover MBR-GX01-01-2 {FRIDAY:%m-%d} 08:00 20:00")
    await world.drain()
    assert leader.last_message.text.startswith("Handed over: 叶保国 covers for you"), leader.last_message.text


async def test_a_resident_is_told_cover_is_for_grid_staff(telegram_world: TelegramWorld):
    world = telegram_world
    resident = world.person(8100000009, "建国")
    await resident.says(f"/cover MBR-GX01-01-2 {FRIDAY:%m-%d} 08:00 20:00")
    await world.drain()
    assert "网格工作人员用的" in resident.last_message.text
    with world.services.db.session() as session:
        assert session.exec(select(DutyOverride)).all() == []


def on_two_grids(world: TelegramWorld) -> None:
    """廖志强 (leader of GX01-01-2) is on the rota of 莲花社区第一网格 too: its backup on Fridays by day."""
    with world.services.db.session() as session:
        session.add(DutyShift(grid_code="GX01-01-1", staff_code="LDR-GX01-01-2", role="backup", weekday=4,
                              start="08:00", end="20:00"))  # fmt: skip
        session.commit()


def overrides(world: TelegramWorld) -> list[tuple[str, str, str]]:
    with world.services.db.session() as session:
        return [(o.grid_code, o.role, o.staff_code or "") for o in session.exec(select(DutyOverride))]


async def test_a_leader_on_two_grids_is_asked_which_grid_and_nothing_is_recorded(telegram_world: TelegramWorld):
    """With shifts on two grids in the window, /cover handed over the cover's grid only and said
    nothing of the other: now it asks, naming the grids, with the command to send (the grid of the
    colleague named, 叶保国's)."""
    world = telegram_world
    on_two_grids(world)
    leader = world.person(LIAO_ZHIQIANG, "志强")
    friday = f"{FRIDAY:%m-%d}"
    await leader.says(f"/cover MBR-GX01-01-2 {friday} 08:00 20:00 家里有事")
    await world.drain()
    asked = leader.last_message.text
    assert "哪个网格" in asked, asked
    assert lines_with(asked, "GX01-01-1", "莲花社区第一网格") and lines_with(asked, "GX01-01-2", "莲花社区第二网格")
    assert f"/cover GX01-01-2 MBR-GX01-01-2 {friday} 08:00 20:00 家里有事" in asked, asked
    assert overrides(world) == []


async def test_a_grid_code_before_the_staff_code_hands_over_that_grids_shift(telegram_world: TelegramWorld):
    world = telegram_world
    on_two_grids(world)
    leader = world.person(LIAO_ZHIQIANG, "志强")
    member = world.person(YE_BAOGUO, "保国")
    friday = f"{FRIDAY:%m-%d}"
    await leader.says(f"/cover GX01-01-2 MBR-GX01-01-2 {friday} 08:00 20:00 家里有事")
    await world.drain()
    answer = leader.last_message.text
    assert answer.startswith("已交班，叶保国代您值班"), answer
    assert "莲花社区第二网格" in answer and "莲花社区第一网格" not in answer, answer
    assert overrides(world) == [("GX01-01-2", "primary", "MBR-GX01-01-2")]
    assert member.last_message.text.startswith("廖志强请您代班")

    await leader.says(f"/cover gx01-01-1 MBR-GX01-01-1 {friday} 08:00 20:00")  # 张磊, of 莲花社区第一网格
    await world.drain()
    answer = leader.last_message.text
    assert answer.startswith("已交班，张磊代您值班"), answer
    assert f"周五 {friday} 08:00–20:00 · 莲花社区第一网格" in answer and "（备班）" in answer, answer
    assert ("GX01-01-1", "backup", "MBR-GX01-01-1") in overrides(world)


async def test_a_grid_code_is_refused_when_it_does_not_fit(telegram_world: TelegramWorld):
    world = telegram_world
    on_two_grids(world)
    leader = world.person(LIAO_ZHIQIANG, "志强")
    friday = f"{FRIDAY:%m-%d}"
    refusals = {
        f"/cover GX01-01-1 MBR-GX01-01-2 {friday} 08:00 20:00": "叶保国不是莲花社区第一网格",
        f"/cover GX01-02-1 MBR-GX01-02-1 {friday} 08:00 20:00": "没有翠竹社区第一网格",
        f"/cover NOWHERE-9 MBR-GX01-01-2 {friday} 08:00 20:00": "NOWHERE-9",
    }
    for command, said in refusals.items():
        await leader.says(command)
        await world.drain()
        assert said in leader.last_message.text, (command, leader.last_message.text)
        assert "已交班" not in leader.last_message.text
    assert overrides(world) == []


async def test_cover_in_english_asks_which_grid_too(telegram_world: TelegramWorld):
    world = telegram_world
    on_two_grids(world)
    leader = world.person(LIAO_ZHIQIANG, "志强")
    await leader.says("/lang en")
    await world.drain()
    await leader.says(f"/cover MBR-GX01-01-2 {FRIDAY:%m-%d} 08:00 20:00")
    await world.drain()
    asked = leader.last_message.text
    assert "which grid" in asked and "GX01-01-1" in asked, asked
