"""Who is on duty: weekly shifts, midnight, overrides, and a time zone with DST."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from gridline.importers import ImportFailed
from gridline.importers.rota import import_overrides, import_shifts_csv
from gridline.routing.rota import shifts_for_staff, supervisors_on_duty, who_is_on_duty
from gridline.storage.db import Database
from gridline.storage.models import DutyOverride, DutyShift, Staff
from tests.directory.conftest import WriteFile, count

SHANGHAI = "Asia/Shanghai"
BERLIN = "Europe/Berlin"
GRID = "GX01-01-1"
LEADER, MEMBER, MEMBER2 = "LDR-GX01-01-1", "MBR-GX01-01-1", "MBR2-GX01-01-1"


def local(tz: str, year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(tz))


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def on_duty(db: Database, at: datetime, tz: str = SHANGHAI, role: str = "primary", grid: str = GRID) -> list[str]:
    with db.session() as session:
        return [s.code for s in who_is_on_duty(session, grid, at, tz, role)]


def test_the_demo_rota_has_the_leader_by_day_and_the_member_by_night(demo_db: Database) -> None:
    thursday = (2026, 11, 26)
    assert on_duty(demo_db, local(SHANGHAI, *thursday, 10)) == [LEADER]
    assert on_duty(demo_db, local(SHANGHAI, *thursday, 10), role="backup") == [MEMBER]
    assert on_duty(demo_db, local(SHANGHAI, *thursday, 23)) == [MEMBER]
    assert on_duty(demo_db, local(SHANGHAI, *thursday, 23), role="backup") == [LEADER]
    # Friday night (20:00 → Saturday 08:00) belongs to the second member, also after midnight.
    assert on_duty(demo_db, local(SHANGHAI, 2026, 11, 28, 3)) == [MEMBER2]
    assert on_duty(demo_db, local(SHANGHAI, 2026, 11, 28, 8)) == [MEMBER]  # Saturday day: the member
    assert on_duty(demo_db, local(SHANGHAI, 2026, 11, 26, 8)) == [LEADER]  # hand-over: the start counts
    assert on_duty(demo_db, local(SHANGHAI, 2026, 11, 26, 7, 59)) == [MEMBER]  # the night shift's last minute


def test_the_answer_does_not_depend_on_the_zone_of_the_question(demo_db: Database) -> None:
    at = local(SHANGHAI, 2026, 11, 26, 10)
    assert on_duty(demo_db, at.astimezone(UTC)) == on_duty(demo_db, at.astimezone(ZoneInfo("America/New_York")))


def test_an_unknown_grid_has_nobody_and_naive_times_are_refused(demo_db: Database) -> None:
    assert on_duty(demo_db, local(SHANGHAI, 2026, 11, 26, 10), grid="NOPE") == []
    with pytest.raises(ValueError, match="aware"):
        on_duty(demo_db, datetime(2026, 11, 26, 10))


def test_every_base_grid_is_covered_every_hour_of_the_week(demo_db: Database) -> None:
    from gridline.routing.rota import scheduled_on_duty

    zone = ZoneInfo(SHANGHAI)
    with demo_db.session() as session:
        shifts = session.exec(select(DutyShift)).all()
        base = {s.grid_code for s in shifts if s.role in ("primary", "backup")}
    assert len(base) >= 12
    monday = local(SHANGHAI, 2026, 11, 23, 0, 30)
    for grid in sorted(base):
        for role in ("primary", "backup"):
            mine = [s for s in shifts if s.grid_code == grid and s.role == role]
            for hour in range(7 * 24):
                at = monday + timedelta(hours=hour)
                assert scheduled_on_duty(mine, at, zone), f"nobody {role} in {grid} at {at}"


def override(db: Database, write_file: WriteFile, *rows: str) -> None:
    header = "grid_code,role,kind,staff_code,replaces_staff_code,starts_at,ends_at,reason\n"
    import_overrides(db, write_file("o.csv", header + "\n".join(rows) + "\n"), tz=SHANGHAI)


def test_leave_removes_the_person_and_nobody_else(demo_db: Database, write_file: WriteFile) -> None:
    override(demo_db, write_file, f"{GRID},primary,leave,{LEADER},,2026-11-26 09:00,2026-11-26 12:00,体检")
    assert on_duty(demo_db, local(SHANGHAI, 2026, 11, 26, 10)) == []
    assert on_duty(demo_db, local(SHANGHAI, 2026, 11, 26, 12)) == [LEADER]  # the leave is over
    assert on_duty(demo_db, local(SHANGHAI, 2026, 11, 26, 10), role="backup") == [MEMBER]
    with demo_db.session() as session:
        stored = session.exec(select(DutyOverride)).one()
    assert stored.staff_code is None and stored.replaces_staff_code == LEADER  # as the table documents


def test_swap_puts_someone_in_the_place_and_cover_adds_someone(demo_db: Database, write_file: WriteFile) -> None:
    override(
        demo_db,
        write_file,
        f"{GRID},primary,swap,{MEMBER2},{LEADER},2026-11-26 08:00,2026-11-26 20:00,",
        f"{GRID},primary,cover,{MEMBER},,2026-11-26 11:00,2026-11-26 12:00,",
    )
    assert on_duty(demo_db, local(SHANGHAI, 2026, 11, 26, 10)) == [MEMBER2]
    assert on_duty(demo_db, local(SHANGHAI, 2026, 11, 26, 11, 30)) == [MEMBER2, MEMBER]
    assert on_duty(demo_db, local(SHANGHAI, 2026, 11, 27, 10)) == [LEADER]  # only that day


def test_a_swap_for_someone_not_on_duty_changes_nothing(demo_db: Database, write_file: WriteFile) -> None:
    override(demo_db, write_file, f"{GRID},primary,swap,{MEMBER2},{MEMBER},2026-11-26 09:00,2026-11-26 12:00,")
    assert on_duty(demo_db, local(SHANGHAI, 2026, 11, 26, 10)) == [LEADER]


def test_my_shifts_account_for_leave_and_cover(demo_db: Database, write_file: WriteFile) -> None:
    override(
        demo_db,
        write_file,
        f"{GRID},primary,leave,{LEADER},,2026-11-26 09:00,2026-11-26 12:00,",
        f"{GRID},primary,cover,{MEMBER2},{LEADER},2026-11-26 09:00,2026-11-26 12:00,",
    )
    start, end = local(SHANGHAI, 2026, 11, 26, 0), local(SHANGHAI, 2026, 11, 27, 0)
    with demo_db.session() as session:
        leader = shifts_for_staff(session, LEADER, start, end, SHANGHAI)
        cover = shifts_for_staff(session, MEMBER2, start, end, SHANGHAI)
    assert (utc(2026, 11, 26, 0), utc(2026, 11, 26, 1), GRID, "primary") in leader  # 08:00–09:00
    assert (utc(2026, 11, 26, 4), utc(2026, 11, 26, 12), GRID, "primary") in leader  # 12:00–20:00
    assert not any(a <= utc(2026, 11, 26, 2) < b and role == "primary" for a, b, _, role in leader)
    assert (utc(2026, 11, 26, 1), utc(2026, 11, 26, 4), GRID, "primary") in cover


def test_supervisors_on_duty_follow_their_rota_up_the_chain(demo_db: Database) -> None:
    chain = ["GX01-01-1", "GX01-01", "GX01"]
    with demo_db.session() as session:
        day = supervisors_on_duty(session, chain, local(SHANGHAI, 2026, 11, 26, 10), SHANGHAI)
        night = supervisors_on_duty(session, chain, local(SHANGHAI, 2026, 11, 26, 23), SHANGHAI)
        neighbour = supervisors_on_duty(
            session, ["ZY01-01-1", "ZY01-01", "ZY01"], local(SHANGHAI, 2026, 11, 26, 10), SHANGHAI
        )
        triage = supervisors_on_duty(session, [], local(SHANGHAI, 2026, 11, 26, 10), SHANGHAI)
    assert [s.code for s in day] == ["SUP-01"]
    assert [s.code for s in night] == ["SUP-02"]
    assert [s.code for s in neighbour] == ["SUP-05"]  # no rota for ZY01: the platform-wide one
    assert [s.code for s in triage] == ["SUP-05"]


def test_with_no_supervisor_rota_every_active_supervisor_is_on(demo_db: Database) -> None:
    with demo_db.session() as session:
        for shift in session.exec(select(DutyShift).where(DutyShift.role == "supervisor")):
            session.delete(shift)
    with demo_db.session() as session:
        people = supervisors_on_duty(session, [], local(SHANGHAI, 2026, 11, 26, 10), SHANGHAI)
        expected = session.exec(select(Staff.code).where(Staff.role == "supervisor")).all()
    assert sorted(s.code for s in people) == sorted(expected)


def berlin_rota(db: Database, write_file: WriteFile) -> None:
    """Nights 22:00 → 06:00 (across midnight) by the member, days by the leader, every day."""
    text = (
        "grid_code,staff_code,role,weekday,start,end\n"
        f"{GRID},{MEMBER},primary,daily,22:00,06:00\n"
        f"{GRID},{LEADER},primary,daily,06:00,22:00\n"
    )
    import_shifts_csv(db, write_file("berlin.csv", text), tz=BERLIN)


def test_the_spring_forward_night_shift_is_seven_hours(demo_db: Database, write_file: WriteFile) -> None:
    berlin_rota(demo_db, write_file)
    # Sunday 2026-03-29: clocks jump 02:00 → 03:00. The night began 21:00 UTC, ends 06:00 CEST = 04:00 UTC.
    assert on_duty(demo_db, utc(2026, 3, 28, 21, 0), BERLIN) == [MEMBER]
    assert on_duty(demo_db, utc(2026, 3, 29, 1, 30), BERLIN) == [MEMBER]  # 03:30 CEST, just after the jump
    assert on_duty(demo_db, utc(2026, 3, 29, 3, 59), BERLIN) == [MEMBER]
    assert on_duty(demo_db, utc(2026, 3, 29, 4, 0), BERLIN) == [LEADER]  # 06:00 CEST
    with demo_db.session() as session:
        nights = [s for s in shifts_for_staff(session, MEMBER, utc(2026, 3, 28, 12), utc(2026, 3, 29, 12), BERLIN)]
    assert [(b - a) for a, b, _, _ in nights] == [timedelta(hours=7)]


def test_the_fall_back_night_shift_is_nine_hours(demo_db: Database, write_file: WriteFile) -> None:
    berlin_rota(demo_db, write_file)
    # Sunday 2026-10-25: clocks go back 03:00 → 02:00. The night began 20:00 UTC, ends 06:00 CET = 05:00 UTC.
    assert on_duty(demo_db, utc(2026, 10, 24, 20, 0), BERLIN) == [MEMBER]
    assert on_duty(demo_db, utc(2026, 10, 25, 0, 30), BERLIN) == [MEMBER]  # 02:30 CEST
    assert on_duty(demo_db, utc(2026, 10, 25, 1, 30), BERLIN) == [MEMBER]  # 02:30 CET, the repeated hour
    assert on_duty(demo_db, utc(2026, 10, 25, 4, 30), BERLIN) == [MEMBER]  # 05:30 CET
    assert on_duty(demo_db, utc(2026, 10, 25, 5, 0), BERLIN) == [LEADER]
    with demo_db.session() as session:
        nights = shifts_for_staff(session, MEMBER, utc(2026, 10, 24, 12), utc(2026, 10, 25, 12), BERLIN)
    assert [(b - a) for a, b, _, _ in nights] == [timedelta(hours=9)]


def test_a_shift_starting_in_the_skipped_hour_still_happens(demo_db: Database, write_file: WriteFile) -> None:
    text = f"grid_code,staff_code,role,weekday,start,end\n{GRID},{MEMBER2},backup,Sun,02:30,04:00\n"
    import_shifts_csv(demo_db, write_file("odd.csv", text), tz=BERLIN)
    # 02:30 does not exist on 2026-03-29; it is read as 03:30 CEST (01:30 UTC) and the shift lasts to 04:00.
    assert on_duty(demo_db, utc(2026, 3, 29, 1, 45), BERLIN, role="backup") == [MEMBER2]
    assert on_duty(demo_db, utc(2026, 3, 29, 2, 0), BERLIN, role="backup") == []


def test_valid_from_and_until_bound_a_shift(demo_db: Database, write_file: WriteFile) -> None:
    text = (
        "grid_code,staff_code,role,weekday,start,end,valid_from,valid_until\n"
        f"{GRID},{MEMBER2},primary,1-5,08:00,20:00,2026-12-01,2026-12-31\n"
    )
    import_shifts_csv(demo_db, write_file("winter.csv", text), tz=SHANGHAI)
    assert on_duty(demo_db, local(SHANGHAI, 2026, 11, 30, 10)) == []  # before (Monday)
    assert on_duty(demo_db, local(SHANGHAI, 2026, 12, 1, 10)) == [MEMBER2]
    assert on_duty(demo_db, local(SHANGHAI, 2027, 1, 1, 10)) == []  # after


def test_unknown_codes_in_a_rota_are_refused_naming_the_row(demo_db: Database, write_file: WriteFile) -> None:
    before = count(demo_db, DutyShift)
    text = (
        "grid_code,staff_code,role,weekday,start,end\n"
        f"{GRID},{LEADER},primary,Mon,08:00,20:00\n"
        f"NOPE,{LEADER},primary,Mon,08:00,20:00\n"
        f"{GRID},NOBODY,primary,Mon,08:00,20:00\n"
        f"{GRID},{LEADER},boss,Funday,8am,20:00\n"
    )
    with pytest.raises(ImportFailed) as info:
        import_shifts_csv(demo_db, write_file("bad.csv", text), tz=SHANGHAI)
    problems = [(p.where, p.message) for p in info.value.problems]
    assert ("line 3", "unknown grid_code NOPE") in problems
    assert ("line 4", "unknown staff code NOBODY") in problems
    assert ("line 5", "role boss is not primary, backup or supervisor") in problems
    assert ("line 5", "unknown weekday funday") in problems
    assert count(demo_db, DutyShift) == before
    assert on_duty(demo_db, local(SHANGHAI, 2026, 11, 26, 10)) == [LEADER]  # the old rota still stands


def test_bad_overrides_are_refused(demo_db: Database, write_file: WriteFile) -> None:
    with pytest.raises(ImportFailed) as info:
        override(
            demo_db,
            write_file,
            f"{GRID},primary,holiday,{LEADER},,2026-11-26 09:00,2026-11-26 12:00,",
            f"{GRID},primary,swap,{MEMBER},,2026-11-26 09:00,2026-11-26 12:00,",
            f"{GRID},primary,leave,{LEADER},,2026-11-26 12:00,2026-11-26 09:00,",
            f"{GRID},primary,cover,GHOST,,2026-11-26 09:00,2026-11-26 12:00,",
        )
    messages = [(p.where, p.message) for p in info.value.problems]
    assert messages == [
        ("line 2", "kind holiday is not leave, swap or cover"),
        ("line 3", "swap needs staff_code and replaces_staff_code"),
        ("line 4", "ends_at is not after starts_at"),
        ("line 5", "unknown staff code GHOST"),
    ]
    assert count(demo_db, DutyOverride) == 0


def test_weekday_spellings(demo_db: Database, write_file: WriteFile) -> None:
    from gridline.importers.fields import parse_weekdays

    assert parse_weekdays("Mon-Fri") == parse_weekdays("1-5") == parse_weekdays("周一至周五") == [0, 1, 2, 3, 4]
    assert parse_weekdays("Fri-Mon") == [0, 4, 5, 6]
    assert parse_weekdays("Sat|Sun") == parse_weekdays("6,7") == [5, 6]
    assert parse_weekdays("daily") == list(range(7))


def test_the_answer_remembered_between_rota_changes_is_the_answer_at_every_moment(
    demo_db: Database, write_file: WriteFile
) -> None:
    """``on_duty_codes`` remembers an answer until the next moment a shift or an override starts or
    ends (``rota.on_duty_until``): asked every 10 minutes across both DST changes of another zone, with
    overrides starting and ending inside shifts, forwards and in a shuffled order, it says what the
    rota read from the database says at that moment."""
    import random
    from zoneinfo import ZoneInfo

    from gridline.routing.rota import apply_overrides, on_duty_codes, scheduled_on_duty
    from gridline.storage import directory

    text = (
        "grid_code,staff_code,role,weekday,start,end\n"
        f"{GRID},{MEMBER},primary,daily,22:00,06:00\n"
        f"{GRID},{LEADER},primary,daily,06:00,22:00\n"
        f"{GRID},{MEMBER2},primary,Sat,12:00,13:00\n"  # starts inside the day shift: both on duty
    )
    import_shifts_csv(demo_db, write_file("berlin-plus.csv", text), tz=BERLIN)
    header = "grid_code,role,kind,staff_code,replaces_staff_code,starts_at,ends_at,reason\n"
    rows = [
        f"{GRID},primary,leave,{MEMBER},,2026-03-29 01:30,2026-03-29 03:10,",  # inside the short night
        f"{GRID},primary,cover,{MEMBER2},,2026-03-29 05:50,2026-03-29 07:00,",  # across the hand-over
        f"{GRID},primary,swap,{MEMBER2},{LEADER},2026-10-25 10:00,2026-10-25 11:00,",
        f"{GRID},primary,cover,{MEMBER2},{MEMBER},2026-10-25 02:15,2026-10-25 02:45,",  # the repeated hour
    ]
    import_overrides(demo_db, write_file("dst-overrides.csv", header + "\n".join(rows) + "\n"), tz=BERLIN)
    zone = ZoneInfo(BERLIN)
    moments = [start + timedelta(minutes=10 * i) for start in (utc(2026, 3, 27), utc(2026, 10, 23))
               for i in range(6 * 24 * 4)]
    shuffled = random.Random(9).sample(moments, len(moments))
    with demo_db.session() as session:
        shifts = directory.shifts(session, grid_code=GRID, role="primary")

        def fresh(at: datetime) -> list[str]:
            in_force = directory.overrides_at(session, grid_code=GRID, role="primary", at=at)
            return apply_overrides(scheduled_on_duty(shifts, at, zone), in_force)

        expected = {at: fresh(at) for at in moments}
        assert {tuple(codes) for codes in expected.values()} >= {(MEMBER,), (LEADER,), (), (MEMBER2,),
                                                                 (LEADER, MEMBER2)}
        for at in [*moments, *shuffled]:
            assert on_duty_codes(session, GRID, at, BERLIN) == expected[at], at
