"""Rotas from iCalendar: recurring VEVENTs with RRULE, mapped to grid, staff and role."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import col, delete, select

from gridline.importers import ImportFailed
from gridline.importers.rota import import_rota
from gridline.routing.rota import who_is_on_duty
from gridline.storage.db import Database
from gridline.storage.models import DutyShift, Staff
from tests.directory.conftest import WriteFile, count

TZ = "Asia/Shanghai"
GRID = "GX01-01-1"


def calendar(*events: str, header: str = f"X-GRIDLINE-GRID:{GRID}") -> str:
    body = "\r\n".join(events)
    return f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Gridline tests//EN\r\n{header}\r\n{body}\r\nEND:VCALENDAR\r\n"


def event(uid: str, *lines: str) -> str:
    return "\r\n".join(["BEGIN:VEVENT", f"UID:{uid}", "DTSTAMP:20261101T000000Z", *lines, "END:VEVENT"])


@pytest.fixture
def no_rota(demo_db: Database) -> Database:
    with demo_db.session() as session:
        session.exec(delete(DutyShift).where(col(DutyShift.grid_code) == GRID))  # type: ignore[call-overload]
    return demo_db


def on_duty(db: Database, year: int, month: int, day: int, hour: int, role: str = "primary") -> list[str]:
    at = datetime(year, month, day, hour, tzinfo=ZoneInfo(TZ))
    with db.session() as session:
        return [s.code for s in who_is_on_duty(session, GRID, at, TZ, role)]


def leader_name(db: Database) -> str:
    with db.session() as session:
        return session.exec(select(Staff.name).where(Staff.code == "LDR-GX01-01-1")).one()


def test_weekly_and_daily_rules_with_exceptions(no_rota: Database, write_file: WriteFile) -> None:
    ics = calendar(
        event(
            "day",
            f"SUMMARY:{leader_name(no_rota)}",  # a team calendar titled with people's names
            "DTSTART;TZID=Asia/Shanghai:20261102T080000",
            "DTEND;TZID=Asia/Shanghai:20261102T200000",
            "RRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
        ),
        event(
            "night",
            "SUMMARY:夜班",
            "X-GRIDLINE-STAFF:MBR-GX01-01-1",
            "DTSTART;TZID=Asia/Shanghai:20261102T200000",
            "DURATION:PT12H",
            "RRULE:FREQ=DAILY",
            "EXDATE;TZID=Asia/Shanghai:20261126T200000",
        ),
        event(
            "backup",
            "SUMMARY:MBR2-GX01-01-1",  # a staff code as the title
            "X-GRIDLINE-ROLE:backup",
            "DTSTART:20261102T000000Z",  # 08:00 in Shanghai, given in UTC
            "DTEND:20261102T120000Z",
            "RRULE:FREQ=WEEKLY;BYDAY=MO,TH;UNTIL=20261231T235959Z",
        ),
    )
    summary = import_rota(no_rota, write_file("team.ics", ics), tz=TZ)
    assert summary.created == 3 and summary.kind == "shifts_ics"
    assert on_duty(no_rota, 2026, 11, 26, 10) == ["LDR-GX01-01-1"]  # Thursday day
    assert on_duty(no_rota, 2026, 11, 28, 10) == []  # Saturday: no day rule
    assert on_duty(no_rota, 2026, 11, 27, 3) == []  # the night of the 26th is excepted
    assert on_duty(no_rota, 2026, 11, 28, 3) == ["MBR-GX01-01-1"]  # the night of the 27th, after midnight
    assert on_duty(no_rota, 2026, 11, 26, 10, role="backup") == ["MBR2-GX01-01-1"]
    assert on_duty(no_rota, 2027, 1, 7, 10, role="backup") == []  # after UNTIL


def test_reimporting_a_calendar_replaces_its_shifts(no_rota: Database, write_file: WriteFile) -> None:
    one = event("d", "SUMMARY:LDR-GX01-01-1", "DTSTART:20261102T080000", "DTEND:20261102T200000", "RRULE:FREQ=DAILY")
    import_rota(no_rota, write_file("a.ics", calendar(one)), tz=TZ)
    summary = import_rota(no_rota, write_file("b.ics", calendar(one)), tz=TZ)
    assert (summary.created, summary.removed) == (1, 1)
    with no_rota.session() as session:  # the CSV shifts of the other grids remain
        assert session.exec(select(DutyShift).where(DutyShift.source == "csv")).first() is not None


def test_the_grid_can_come_from_the_command_line(no_rota: Database, write_file: WriteFile) -> None:
    one = event("d", "SUMMARY:LDR-GX01-01-1", "DTSTART:20261102T080000", "DTEND:20261102T200000", "RRULE:FREQ=DAILY")
    import_rota(no_rota, write_file("a.ics", calendar(one, header="X-WR-CALNAME:值班")), tz=TZ, default_grid=GRID)
    assert on_duty(no_rota, 2026, 11, 29, 9) == ["LDR-GX01-01-1"]


def test_events_that_cannot_be_placed_are_refused(no_rota: Database, write_file: WriteFile) -> None:
    before = count(no_rota, DutyShift)
    ics = calendar(
        event("a", "SUMMARY:无名氏", "DTSTART:20261102T080000", "DTEND:20261102T200000"),
        event("b", "SUMMARY:LDR-GX01-01-1", "X-GRIDLINE-GRID:NOPE", "DTSTART:20261102T080000", "DTEND:20261102T200000"),
        event("c", "SUMMARY:LDR-GX01-01-1", "DTSTART:20261102T080000"),
        event("d", "SUMMARY:LDR-GX01-01-1", "DTSTART:20261102T080000", "DURATION:PT8H", "RRULE:FREQ=SOMETIMES"),
    )
    with pytest.raises(ImportFailed) as info:
        import_rota(no_rota, write_file("bad.ics", ics), tz=TZ)
    problems = [(p.where, p.key) for p in info.value.problems]
    assert problems[0] == ("VEVENT #1 (无名氏)", "directory.rota.no_staff")
    assert ("VEVENT #2 (LDR-GX01-01-1)", "directory.rota.unknown_grid") in problems
    assert ("VEVENT #3 (LDR-GX01-01-1)", "directory.rota.no_end") in problems
    assert problems[-1][1] == "directory.rota.bad_rrule"
    assert count(no_rota, DutyShift) == before


def test_a_file_that_is_no_calendar_is_refused(no_rota: Database, write_file: WriteFile) -> None:
    with pytest.raises(ImportFailed) as info:
        import_rota(no_rota, write_file("bad.ics", "BEGIN:VCALENDAR\r\nthis is not\r\n"), tz=TZ)
    assert "not a readable iCalendar file" in str(info.value)
