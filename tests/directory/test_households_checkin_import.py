"""The 平安守护 opt-in columns of the roster import (channel, time, weekdays, which member):
all or nothing, GBK tolerated, every problem named by its line; a re-import without them keeps the
opt-ins set in the console."""

from __future__ import annotations

import pytest
from sqlmodel import select

from gridline.importers import ImportFailed
from gridline.importers.households import import_households
from gridline.settings import Settings
from gridline.storage.db import Database
from gridline.storage.models import Household, HouseholdPerson
from tests.directory.conftest import NOW, WriteFile, count

HEADER = (
    "grid_code,building,unit,room,members,consent_checkin,checkin_channel,checkin_time,checkin_days,checkin_member\n"
)
GOOD = "ZY01-01-1,7,1,101,王大妈/13800138000;王大爷/13800138001,是,短信,8:30,周一至周五,王大爷\n"


def members(db: Database) -> dict[str, HouseholdPerson]:
    with db.session() as session:
        household = session.exec(select(Household).order_by(Household.id.desc())).first()  # type: ignore[union-attr]
        assert household is not None
        rows = session.exec(select(HouseholdPerson).where(HouseholdPerson.household_id == household.id))
        return {p.name: p for p in rows}


def test_a_member_is_opted_in_by_name_with_time_and_weekdays(demo_db: Database, write_file: WriteFile) -> None:
    import_households(demo_db, write_file("h.csv", HEADER + GOOD), Settings(), now=NOW)
    people = members(demo_db)
    grandpa = people["王大爷"]
    assert (grandpa.checkin_channel, grandpa.checkin_time, grandpa.checkin_days) == ("sms", "08:30", [1, 2, 3, 4, 5])
    assert people["王大妈"].checkin_channel is None  # only the member named


def test_the_first_member_by_default_every_day_and_the_default_time_from_a_gbk_file(
    demo_db: Database, write_file: WriteFile
) -> None:
    row = "ZY01-01-1,7,1,102,李奶奶/13800138002,是,voice,,1-7,\n"
    summary = import_households(demo_db, write_file("h.csv", HEADER + row, encoding="gbk"), Settings(), now=NOW)
    assert summary.encoding not in ("utf-8", None)
    grandma = members(demo_db)["李奶奶"]
    assert (grandma.checkin_channel, grandma.checkin_time, grandma.checkin_days) == ("voice", None, [])


def test_a_reimport_without_the_columns_keeps_the_opt_in(demo_db: Database, write_file: WriteFile) -> None:
    import_households(demo_db, write_file("h.csv", HEADER + GOOD), Settings(), now=NOW)
    plain = (
        "grid_code,building,unit,room,members,consent_checkin\n"
        "ZY01-01-1,7,1,101,王大妈/13800138000;王大爷/13800138001,是\n"
    )
    import_households(demo_db, write_file("h2.csv", plain), Settings(), now=NOW)
    assert members(demo_db)["王大爷"].checkin_channel == "sms"
    # With the columns, an empty channel is an opt-out.
    import_households(demo_db, write_file("h3.csv", HEADER + GOOD.replace("短信,8:30,周一至周五,王大爷", ",,,")),
                      Settings(), now=NOW)  # fmt: skip
    assert members(demo_db)["王大爷"].checkin_channel is None


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("ZY01-01-1,7,1,102,李奶奶/13800138002,是,pigeon,,,\n", "check-in channel must be sms, voice or telegram"),
        ("ZY01-01-1,7,1,102,李奶奶/13800138002,否,sms,,,\n", "check-ins need the household's consent"),
        ("ZY01-01-1,7,1,102,李奶奶/13800138002,是,sms,25:00,,\n", "check-in time must be HH:MM (not '25:00')"),
        ("ZY01-01-1,7,1,102,李奶奶/13800138002,是,sms,,周八,\n", "八"),
        ("ZY01-01-1,7,1,102,李奶奶/13800138002,是,sms,,,张三\n", "check-in member '张三' is not among"),
        ("ZY01-01-1,7,1,102,,是,sms,,,\n", "check-in member '-' is not among"),
        ("ZY01-01-1,7,1,102,李奶奶,是,voice,,,\n", "member 李奶奶 has no phone"),
        ("ZY01-01-1,7,1,102,李奶奶/13800138002,是,,09:00,,\n", "without a channel"),
    ],
)
def test_bad_opt_ins_are_refused_by_line_and_nothing_is_imported(
    demo_db: Database, write_file: WriteFile, row: str, message: str
) -> None:
    before = count(demo_db, Household), count(demo_db, HouseholdPerson)
    with pytest.raises(ImportFailed) as failed:
        import_households(demo_db, write_file("h.csv", HEADER + GOOD + row), Settings(), now=NOW)
    text = failed.value.text("en")
    assert "line 3" in text and message in text, text
    assert (count(demo_db, Household), count(demo_db, HouseholdPerson)) == before  # the good row neither
    assert failed.value.text("zh-CN")
