"""Residents: the grid from the directory, identities for their phone and Telegram account."""

from __future__ import annotations

import pytest
from sqlmodel import select

from gridline.importers import ImportFailed
from gridline.importers.residents import import_residents
from gridline.storage.db import Database
from gridline.storage.models import Address, ChannelIdentity, Resident
from tests.directory.conftest import NOW, WriteFile, count

HEADER = "name,phone,address,grid_code,lang,telegram\n"


def test_demo_residents_are_placed_through_the_address_directory(demo_db: Database) -> None:
    with demo_db.session() as session:
        li = session.exec(select(Resident).where(Resident.name == "李秀英")).one()
        address = session.get(Address, li.address_id)
        identities = session.exec(select(ChannelIdentity).where(ChannelIdentity.resident_id == li.id)).all()
    assert li.grid_code == "ZY01-01-1" and li.phone == "+8617000010001"
    assert address is not None and address.address == "郑州市中原区桐柏路199号院"
    assert sorted((i.channel, i.external_id) for i in identities) == [
        ("sms", "+8617000010001"),
        ("telegram", "8000000001"),
    ]


def test_reimport_updates_the_same_resident(demo_db: Database, write_file: WriteFile) -> None:
    before = count(demo_db, Resident)
    text = HEADER + "李秀英,17000010001,颍河路56号院,,en,\n"
    summary = import_residents(demo_db, write_file("r.csv", text), now=NOW)
    assert (summary.created, summary.updated) == (0, 1)
    assert count(demo_db, Resident) == before
    with demo_db.session() as session:
        li = session.exec(select(Resident).where(Resident.phone == "+8617000010001")).one()
    assert li.grid_code == "ZY01-01-2" and li.lang == "en"


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("王五,,,GX01-01-1,,", "needs a phone or a telegram user id"),
        ("王五,17000019999,火星路1号,,,", "is not in the directory and no grid_code"),
        ("王五,17000019999,,NOPE,,", "unknown grid_code NOPE"),
        ("王五,,,GX01-01-1,,@wang", "telegram user id @wang is not a number"),
    ],
)
def test_bad_rows_are_refused(demo_db: Database, write_file: WriteFile, row: str, message: str) -> None:
    before = count(demo_db, Resident)
    with pytest.raises(ImportFailed) as info:
        import_residents(demo_db, write_file("r.csv", HEADER + row + "\n"), now=NOW)
    assert message in str(info.value) and "line 2" in str(info.value)
    assert count(demo_db, Resident) == before
