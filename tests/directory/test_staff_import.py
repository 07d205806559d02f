"""Staff with roles and ordered notification channels."""

from __future__ import annotations

import pytest
from sqlmodel import col, select

from gridline.importers import ImportFailed
from gridline.importers.staff import import_staff
from gridline.storage.db import Database
from gridline.storage.models import ChannelIdentity, ContactMethod, Staff
from tests.directory.conftest import NOW, WriteFile, count

HEADER = "code,name,role,grid_code,department,categories,phone,lang,channels\n"


def channels_of(db: Database, code: str) -> list[tuple[str, str, int]]:
    with db.session() as session:
        staff = session.exec(select(Staff).where(Staff.code == code)).one()
        methods = session.exec(
            select(ContactMethod).where(ContactMethod.staff_id == staff.id).order_by(col(ContactMethod.position))
        ).all()
        return [(m.channel, m.target, m.position) for m in methods]


def test_channels_are_kept_in_order_with_their_targets(demo_db: Database, write_file: WriteFile) -> None:
    text = HEADER + "T-1,测试员,member,GX01-01-1,,,170 0000 9999,zh,telegram:555123|sms|voice|web\n"
    summary = import_staff(demo_db, write_file("s.csv", text), now=NOW)
    assert summary.created == 1
    assert channels_of(demo_db, "T-1") == [
        ("telegram", "555123", 0),
        ("sms", "+8617000009999", 1),
        ("voice", "+8617000009999", 2),
        ("web", "", 3),
    ]
    with demo_db.session() as session:
        staff = session.exec(select(Staff).where(Staff.code == "T-1")).one()
        identity = session.exec(select(ChannelIdentity).where(ChannelIdentity.external_id == "555123")).one()
    assert staff.phone == "+8617000009999" and staff.lang == "zh-CN"
    assert identity.staff_id == staff.id and identity.channel == "telegram"


def test_reimport_reorders_channels_and_drops_removed_ones(demo_db: Database, write_file: WriteFile) -> None:
    import_staff(
        demo_db, write_file("a.csv", HEADER + "T-1,测试员,member,GX01-01-1,,,+8617000009999,,sms|voice|web\n"), now=NOW
    )
    summary = import_staff(
        demo_db, write_file("b.csv", HEADER + "T-1,测试员,leader,GX01-01-1,,,+8617000009999,en,web|sms\n"), now=NOW
    )
    assert (summary.created, summary.updated) == (0, 1)
    assert channels_of(demo_db, "T-1") == [("web", "", 0), ("sms", "+8617000009999", 1)]


def test_department_staff_carry_their_categories(demo_db: Database) -> None:
    with demo_db.session() as session:
        water = session.exec(select(Staff).where(Staff.code == "DEP-WATER-1")).one()
    assert water.role == "department" and water.categories == ["water_supply", "drainage"]


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("T-2,某人,chief,GX01-01-1,,,,,web", "role chief is not one of"),
        ("T-2,某人,leader,NOPE,,,,,web", "unknown grid_code NOPE"),
        ("T-2,某人,leader,,,,,,web", "a leader needs a grid_code"),
        ("T-2,某人,department,,水务,water|power_supply,,,web", "unknown categories water"),
        ("T-2,某人,member,GX01-01-1,,,12345,,web", "phone 12345 is not a valid number"),
        ("T-2,某人,member,GX01-01-1,,,,,sms|web", "sms needs a phone number"),
        ("T-2,某人,member,GX01-01-1,,,,,telegram:@someone", "telegram needs a numeric chat id"),
        ("T-2,某人,member,GX01-01-1,,,,,pigeon", "unknown channel pigeon"),
        ("T-2,某人,member,GX01-01-1,,,,fr,web", "language fr is not zh-CN or en"),
    ],
)
def test_bad_rows_are_refused_naming_the_line(demo_db: Database, write_file: WriteFile, row: str, message: str) -> None:
    before = count(demo_db, Staff)
    text = HEADER + "T-1,好人,member,GX01-01-1,,,,,web\n" + row + "\n"
    with pytest.raises(ImportFailed) as info:
        import_staff(demo_db, write_file("bad.csv", text), now=NOW)
    assert len(info.value.problems) == 1
    assert info.value.problems[0].where == "line 3"
    assert message in info.value.problems[0].message
    assert count(demo_db, Staff) == before


def test_a_duplicate_code_is_refused(demo_db: Database, write_file: WriteFile) -> None:
    text = HEADER + "T-1,甲,member,GX01-01-1,,,,,web\nT-1,乙,member,GX01-01-1,,,,,web\n"
    with pytest.raises(ImportFailed) as info:
        import_staff(demo_db, write_file("bad.csv", text), now=NOW)
    assert "code T-1 is also on line 2" in str(info.value)


def test_a_channel_that_pages_point_at_is_retired_not_deleted(demo_db: Database, write_file: WriteFile) -> None:
    from gridline.storage.models import Case, Page

    import_staff(
        demo_db, write_file("a.csv", HEADER + "T-1,测试员,member,GX01-01-1,,,+8617000009999,,sms|web\n"), now=NOW
    )
    with demo_db.session() as session:
        staff = session.exec(select(Staff).where(Staff.code == "T-1")).one()
        sms = session.exec(
            select(ContactMethod).where(ContactMethod.staff_id == staff.id, ContactMethod.channel == "sms")
        ).one()
        case = Case(ref="T1", grid_code="GX01-01-1", category="water_supply", priority="normal", status="paged",
                    channel="sms", summary="停水", created_at=NOW, updated_at=NOW)  # fmt: skip
        session.add(case)
        session.flush()
        assert case.id is not None and staff.id is not None
        session.add(Page(case_id=case.id, staff_id=staff.id, channel="sms", target=sms.target,
                         contact_method_id=sms.id, status="sent", created_at=NOW))  # fmt: skip
    import_staff(demo_db, write_file("b.csv", HEADER + "T-1,测试员,member,GX01-01-1,,,+8617000009999,,web\n"), now=NOW)
    with demo_db.session() as session:
        retired = session.get(ContactMethod, sms.id)
    assert retired is not None and retired.unreachable and retired.position >= 1000
    assert channels_of(demo_db, "T-1")[0] == ("web", "", 0)
