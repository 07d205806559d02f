"""平安守护 on the dashboard and in its CSV: check-ins asked, the response rate, silence to a person at
the door (median, p90) and urgent cases opened, per base grid, this period and the one before, scoped."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta

from sqlmodel import select

from gridline.kernel.services import Services
from gridline.storage.models import CheckIn, Household
from tests.console.factories import CaseFactory

MINE = "GX01-01-1"  # 程振华 (leader-cheng) leads it
OTHER = "ZY01-01-1"


def _household(services: Services, grid: str) -> Household:
    with services.db.session() as session:
        found = session.exec(select(Household).where(Household.grid_code == grid)).first()
        assert found is not None, grid
        return found


def _checkin(services: Services, grid: str, due: datetime, cycle: str, *, answered: bool = False,
             silent_after: timedelta | None = None, attended_after: timedelta | None = None,
             case_id: int | None = None) -> None:
    home = _household(services, grid)
    silent = due + silent_after if silent_after is not None else None
    with services.db.session() as session:
        session.add(CheckIn(
            kind="daily", household_id=home.id or 0, grid_code=grid, channel="sms", cycle=cycle,
            status="answered" if answered else "missed", due_at=due, asked_at=due,
            silent_at=silent, answered_at=due + timedelta(minutes=5) if answered else None,
            answer="ok" if answered else None,
            attended_at=silent + attended_after if silent is not None and attended_after is not None else None,
            case_id=case_id, created_at=due, updated_at=due,
        ))  # fmt: skip


def _build(services: Services, factory: CaseFactory) -> None:
    now = services.clock.now()
    due = now - timedelta(hours=3)  # today (local): the current period
    window = timedelta(minutes=30)
    _checkin(services, MINE, due, "c-ok", answered=True)
    _checkin(services, MINE, due, "c-helper", silent_after=window, attended_after=timedelta(minutes=10))  # "1"
    urgent = factory.case(grid=MINE, priority="urgent", created=due + window, ack_after=timedelta(minutes=30))
    _checkin(services, MINE, due, "c-case", silent_after=window, case_id=urgent.id)  # acknowledged 30 min on
    _checkin(services, MINE, due, "c-nobody", silent_after=window)  # silent, nobody went (yet)
    _checkin(services, OTHER, due, "c-other", answered=True)
    before = now - timedelta(days=8)  # the previous seven days
    _checkin(services, MINE, before, "p-ok-1", answered=True)
    _checkin(services, MINE, before, "p-ok-2", answered=True)


def _rows(body: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def _figure(rows: list[list[str]], section: str, key: str, name: str) -> tuple[str, str]:
    (row,) = [r for r in rows if r[0] == section and r[1] == key and r[3] == name]
    return row[4], row[5]


async def test_the_dashboard_and_its_csv_show_the_checkin_measures_per_grid(console_services, factory, client_for):
    _build(console_services, factory)
    admin = await client_for("admin")
    rows = _rows((await admin.get("/console/dashboard.csv?days=7")).content)
    grid = "平安守护·按网格"
    assert _figure(rows, grid, MINE, "问候次数") == ("4", "2")
    assert _figure(rows, grid, MINE, "已回复") == ("1", "2")
    assert _figure(rows, grid, MINE, "问候回复率（%）") == ("25.0", "100.0")
    assert _figure(rows, grid, MINE, "无回复到上门中位数（分钟）") == ("10.0", "")  # nearest rank of [10, 30]
    assert _figure(rows, grid, MINE, "无回复到上门P90（分钟）") == ("30.0", "")
    assert _figure(rows, grid, MINE, "问候转紧急工单") == ("1", "0")
    assert _figure(rows, grid, OTHER, "问候回复率（%）") == ("100.0", "")
    assert _figure(rows, "平安守护·总体", "all", "问候次数") == ("5", "2")
    assert _figure(rows, "平安守护·总体", "all", "问候回复率（%）") == ("40.0", "100.0")

    page = (await admin.get("/console/dashboard?days=7")).text
    assert 'data-figure="response_rate">40%<' in page and 'data-figure="urgent">1<' in page
    mine = re.search(rf'<tr data-grid="{MINE}">(.*?)</tr>', page, re.S)
    assert mine is not None
    cells = re.findall(r"<td>(.*?)</td>", mine.group(1), re.S)
    assert cells[:3] == ["4", "1", cells[2]] and cells[2].startswith("25%")
    assert cells[3:] == ["10 分钟", "30 分钟", "1"]


async def test_the_checkin_measures_are_scoped_to_the_viewers_grids(console_services, factory, client_for):
    _build(console_services, factory)
    leader = await client_for("leader-cheng")
    rows = _rows((await leader.get("/console/dashboard.csv?days=7")).content)
    assert _figure(rows, "平安守护·总体", "all", "问候次数") == ("4", "2")
    assert {r[1] for r in rows if r[0] == "平安守护·按网格"} == {MINE}
    page = (await leader.get("/console/dashboard?days=7")).text
    assert f'data-grid="{MINE}"' in page and f'data-grid="{OTHER}"' not in page
    outsider = await client_for("sup-fengyang")  # 枫杨街道: neither grid
    rows = _rows((await outsider.get("/console/dashboard.csv?days=7")).content)
    assert _figure(rows, "平安守护·总体", "all", "问候次数") == ("0", "0")
    assert _figure(rows, "平安守护·总体", "all", "问候回复率（%）") == ("", "")
    assert not [r for r in rows if r[0] == "平安守护·按网格"]
