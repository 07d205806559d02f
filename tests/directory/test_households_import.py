"""The household roster import: one household a row, all or nothing, errors that name the row."""

from __future__ import annotations

import pytest
from sqlmodel import select

from gridline.importers import ImportFailed
from gridline.importers.households import import_households
from gridline.settings import Settings
from gridline.storage import households as roster
from gridline.storage.db import Database
from gridline.storage.models import Household, HouseholdPerson
from tests.directory.conftest import NOW, WriteFile, count

HEADER = "grid_code,building,unit,room,tags,members,family,helper_name,helper_phone,consent_checkin,consent_family\n"
GOOD = "ZY01-01-1,7,1,101,独居老人、高龄,王大妈/13800138000,王强/13900139000/儿子,邻居张姐,13700137000,是,是\n"


def households(db: Database) -> list[Household]:
    with db.session() as session:
        return list(session.exec(select(Household).order_by(Household.id)))


def people(db: Database, household_id: int) -> list[tuple[str, str, str | None, str | None]]:
    with db.session() as session:
        rows = session.exec(select(HouseholdPerson).where(HouseholdPerson.household_id == household_id))
        return sorted((p.kind, p.name, p.phone, p.relation) for p in rows)


def test_the_demo_roster_is_loaded(demo_db: Database) -> None:
    tagged = {(h.grid_code, h.building, h.unit, h.room): h.tags for h in households(demo_db)}
    assert tagged[("ZY01-01-1", "1", "1", "101")] == ["elderly_alone", "very_old"]
    assert len(tagged) == 9


def test_a_household_with_members_family_and_helper(demo_db: Database, write_file: WriteFile) -> None:
    before = count(demo_db, Household)
    summary = import_households(demo_db, write_file("h.csv", HEADER + GOOD), Settings(), now=NOW)
    assert (summary.created, summary.updated) == (1, 0)
    household = households(demo_db)[-1]
    assert count(demo_db, Household) == before + 1
    assert household.tags == ["elderly_alone", "very_old"]  # labels become codes
    assert household.consent_checkin and household.consent_family
    assert (household.helper_name, household.helper_phone) == ("邻居张姐", "+8613700137000")
    assert people(demo_db, household.id or 0) == [
        ("family", "王强", "+8613900139000", "儿子"),
        ("member", "王大妈", "+8613800138000", None),
    ]


def test_reimport_updates_the_room_and_its_people_in_place(demo_db: Database, write_file: WriteFile) -> None:
    import_households(demo_db, write_file("h.csv", HEADER + GOOD), Settings(), now=NOW)
    household = households(demo_db)[-1]
    with demo_db.session() as session:
        grandma_id = roster.people_of(session, household.id or 0)[0].id
    again = GOOD.replace("独居老人、高龄", "困难户").replace("王强/13900139000/儿子", "")
    summary = import_households(demo_db, write_file("h2.csv", HEADER + again), Settings(), now=NOW)
    assert (summary.created, summary.updated, summary.left) == (0, 1, 1)
    assert "1 people no longer listed" in summary.text("en")
    household = households(demo_db)[-1]
    assert household.tags == ["hardship"]
    with demo_db.session() as session:
        on_roster = roster.people_of(session, household.id or 0)
        everyone = roster.people_of(session, household.id or 0, with_removed=True)
    assert [(p.kind, p.id) for p in on_roster] == [("member", grandma_id)]  # the same row, updated
    assert [(p.kind, p.removed_at is not None) for p in everyone] == [("member", False), ("family", True)]


def test_gbk_files_are_read(demo_db: Database, write_file: WriteFile) -> None:
    summary = import_households(demo_db, write_file("h.csv", HEADER + GOOD, encoding="gbk"), Settings(), now=NOW)
    assert summary.created == 1 and summary.encoding not in ("utf-8", None)


def test_custom_tags_from_settings(demo_db: Database, write_file: WriteFile) -> None:
    settings = Settings(roster={"custom_tags": {"oxygen": {"zh-CN": "家庭制氧", "en": "home oxygen"}}})
    row = GOOD.replace("独居老人、高龄", "家庭制氧")
    import_households(demo_db, write_file("h.csv", HEADER + row), settings, now=NOW)
    assert households(demo_db)[-1].tags == ["oxygen"]


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("NOPE-1,1,1,101,,,,,,否,否\n", "there is no grid NOPE-1"),
        ("ZY01-01,1,1,101,,,,,,否,否\n", "ZY01-01 is not a base grid"),
        ("ZY01-01-1,1,1,101,会飞,,,,,否,否\n", "unknown tag '会飞'"),
        ("ZY01-01-1,1,1,101,,王/123,,,,否,否\n", "123"),
        ("ZY01-01-1,1,1,101,,,王强//儿子,,,否,否\n", "family contact 王强 needs a phone number"),
        ("ZY01-01-1,1,1,101,,,,,13700137000,否,否\n", "a helper's phone needs the helper's name"),
        ("ZY01-01-1,1,1,101,,,,,,也许,否\n", "consent_checkin must be yes/no"),
        ("ZY01-01-1,1,1,,,,,,,否,否\n", "the room is missing"),
    ],
)
def test_bad_rows_are_refused_by_line_and_nothing_is_imported(
    demo_db: Database, write_file: WriteFile, row: str, message: str
) -> None:
    before = count(demo_db, Household), count(demo_db, HouseholdPerson)
    with pytest.raises(ImportFailed) as failed:
        import_households(demo_db, write_file("h.csv", HEADER + GOOD + row), Settings(), now=NOW)
    text = failed.value.text("en")
    assert "line 3" in text and message in text
    assert (count(demo_db, Household), count(demo_db, HouseholdPerson)) == before  # the good row neither


def test_a_room_twice_in_one_file_is_refused(demo_db: Database, write_file: WriteFile) -> None:
    with pytest.raises(ImportFailed) as failed:
        import_households(demo_db, write_file("h.csv", HEADER + GOOD + GOOD), Settings(), now=NOW)
    assert "7-1-101 is already on line 2" in failed.value.text("en")
    assert "7-1-101 与第 2 行重复" in failed.value.text("zh-CN")
