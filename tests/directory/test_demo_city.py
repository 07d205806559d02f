"""The demo city is a believable, complete sample: what the issue asks of it, checked."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from shapely.geometry import shape
from sqlmodel import col, select

from gridline.demo import DEMO_DIR
from gridline.domain.lifecycle import StaffRole
from gridline.storage.db import Database
from gridline.storage.models import Address, ChannelIdentity, ContactMethod, Grid, Resident, Staff


def test_grids_nest_three_levels_at_real_coordinates(demo_db: Database) -> None:
    with demo_db.session() as session:
        grids = session.exec(select(Grid)).all()
    levels = {level: [g for g in grids if g.level == level] for level in (1, 2, 3)}
    assert len(levels[1]) >= 2 and len(levels[2]) >= 5 and len(levels[3]) >= 12
    gaoxin = [g for g in grids if g.code.startswith("GX")]
    for grid in gaoxin:
        minx, miny, maxx, maxy = shape(json.loads(grid.geometry)).bounds
        assert minx >= 113.53 and maxx <= 113.60 and miny >= 34.79 and maxy <= 34.84, grid.code


def test_level1_grids_are_tiled_exactly_by_their_base_grids(demo_db: Database) -> None:
    with demo_db.session() as session:
        grids = {g.code: g for g in session.exec(select(Grid)).all()}
    for top in (g for g in grids.values() if g.level == 1):
        base = [shape(json.loads(g.geometry)) for g in grids.values() if g.level == 3 and g.code.startswith(top.code)]
        total = sum(b.area for b in base)
        assert abs(total - shape(json.loads(top.geometry)).area) < 1e-12, top.code


def test_every_grid_has_its_people(demo_db: Database) -> None:
    with demo_db.session() as session:
        grids = session.exec(select(Grid)).all()
        staff = session.exec(select(Staff)).all()
    assert len(staff) >= 40
    by_grid_role = {(s.grid_code, s.role) for s in staff}
    for grid in grids:
        if grid.level == 3:
            assert (grid.code, StaffRole.LEADER) in by_grid_role and (grid.code, StaffRole.MEMBER) in by_grid_role
        else:
            wanted = StaffRole.LEVEL2_CONTACT if grid.level == 2 else StaffRole.LEVEL1_CONTACT
            assert (grid.code, wanted) in by_grid_role, grid.code
    assert sum(s.role == StaffRole.SUPERVISOR for s in staff) >= 2
    handled = {c for s in staff if s.role == StaffRole.DEPARTMENT for c in s.categories}
    assert {"water_supply", "power_supply", "gas_heating", "property_management", "sanitation"} <= handled
    assert all(s.phone and s.phone.startswith("+8617000") for s in staff)  # the obviously fake range


def test_channels_mix_and_some_staff_are_reachable_on_the_web_first(demo_db: Database) -> None:
    with demo_db.session() as session:
        methods = session.exec(select(ContactMethod)).all()
        staff_ids = set(session.exec(select(Staff.id)).all())
        leader = session.exec(select(Staff).where(Staff.code == "LDR-ZY01-01-1")).one()
    assert {m.channel for m in methods} == {"telegram", "sms", "voice", "web"}
    assert {m.staff_id for m in methods} == staff_ids  # everyone reachable somehow
    first = {m.staff_id: m.channel for m in methods if m.position == 0}
    assert sum(channel == "web" for channel in first.values()) >= 10
    assert (
        leader.id is not None and first[leader.id] == "web"
    )  # the seed's 桐柏路199号院 leader answers in the web sandbox


def test_compounds_and_households(demo_db: Database) -> None:
    with demo_db.session() as session:
        addresses = session.exec(select(Address)).all()
        residents = session.exec(select(Resident)).all()
        telegram = session.exec(
            select(ChannelIdentity).where(
                ChannelIdentity.channel == "telegram", col(ChannelIdentity.resident_id).is_not(None)
            )
        ).all()
    assert len({a.compound for a in addresses}) >= 60
    assert all(a.aliases for a in addresses)
    assert {"郑州市中原区桐柏路199号院", "郑州市中原区颍河路56号院"} <= {a.address for a in addresses}
    assert len(residents) >= 10 and all(r.grid_code for r in residents)
    assert len(telegram) >= 3


def test_demo_files_are_utf8_csv_with_the_documented_columns() -> None:
    expected = {
        "addresses.csv": ["address", "aliases", "grid_code", "lat", "lon", "compound"],
        "staff.csv": ["code", "name", "role", "grid_code", "department", "categories", "phone", "lang", "channels"],
        "rota.csv": ["grid_code", "staff_code", "role", "weekday", "start", "end"],
        "residents.csv": ["name", "phone", "address", "grid_code", "lang", "telegram"],
    }
    for name, header in expected.items():
        with (Path(DEMO_DIR) / name).open(encoding="utf-8") as fh:
            assert next(csv.reader(fh)) == header, name
