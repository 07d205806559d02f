"""Every role sees exactly what it should: through lists, search, case pages, conversation pages,
exports, the dashboard, reveals and actions. A supervisor of one grid gets nothing of another's."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest

from tests.console.conftest import csrf_of
from tests.console.factories import CaseFactory


@pytest.fixture
def city(factory: CaseFactory) -> dict[str, object]:
    """Cases in four places: 莲花社区 grids 1 and 2, 翠竹社区 (same level-1 grid), 枫杨 (GX02), triage."""
    return {
        "lianhua1": factory.case(grid="GX01-01-1", text="莲花一网格停水了", staff="LDR-GX01-01-1",
                                 ack_after=timedelta(minutes=4)),
        "lianhua1_other": factory.case(grid="GX01-01-1", text="莲花一网格路灯坏了", category="road_facility",
                                       staff="MBR-GX01-01-1", ack_after=timedelta(minutes=9)),
        "lianhua2": factory.case(grid="GX01-01-2", text="莲花二网格噪音扰民", category="noise",
                                 paged=["LDR-GX01-01-2"]),
        "cuizhu": factory.case(grid="GX01-02-1", text="翠竹社区电梯坏了", category="elevator"),
        "fengyang": factory.case(grid="GX02-02-2", text="枫杨社区独居老人没人管", category="elderly_care",
                                 staff="LDR-GX02-02-2"),
        "triage": factory.case(grid=None, text="不知道在哪个网格的求助", category="other"),
    }


def refs_in(html: str) -> set[str]:
    return set(re.findall(r'class="ref">(T\d+)<', html))


def ref_set(city: dict[str, object], *names: str) -> set[str]:
    return {city[n].ref for n in names}  # type: ignore[attr-defined]


EXPECTED = {
    "admin": ("lianhua1", "lianhua1_other", "lianhua2", "cuizhu", "fengyang", "triage"),
    "auditor": ("lianhua1", "lianhua1_other", "lianhua2", "cuizhu", "fengyang", "triage"),
    "sup-lianhua": ("lianhua1", "lianhua1_other", "lianhua2"),
    "sup-fengyang": ("fengyang",),
    "leader-cheng": ("lianhua1",),
}


@pytest.mark.parametrize("account", sorted(EXPECTED))
async def test_each_role_lists_exactly_its_cases(client_for, city, account):
    client = await client_for(account)
    page = await client.get("/console/cases")
    assert page.status_code == 200
    assert refs_in(page.text) == ref_set(city, *EXPECTED[account])


@pytest.mark.parametrize("account", sorted(EXPECTED))
async def test_each_role_opens_exactly_its_case_pages(client_for, city, account):
    client = await client_for(account)
    for name, case in city.items():
        response = await client.get(f"/console/cases/{case.id}")  # type: ignore[attr-defined]
        expected = 200 if name in EXPECTED[account] else 404
        assert response.status_code == expected, (account, name)


@pytest.mark.parametrize("account", sorted(EXPECTED))
async def test_each_role_exports_exactly_its_cases(client_for, city, account):
    client = await client_for(account)
    response = await client.get("/console/cases.csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert {row[0] for row in rows[1:]} == ref_set(city, *EXPECTED[account])


async def test_a_supervisor_finds_nothing_of_another_grid_by_searching(client_for, city):
    lianhua = await client_for("sup-lianhua")
    fengyang = await client_for("sup-fengyang")
    assert refs_in((await lianhua.get("/console/cases", params={"q": "独居老人"})).text) == set()
    assert refs_in((await fengyang.get("/console/cases", params={"q": "独居老人"})).text) == ref_set(city, "fengyang")
    conversations = await lianhua.get("/console/conversations", params={"q": "独居老人"})
    assert re.findall(r'href="/console/conversations/\d+"', conversations.text) == []
    found = await fengyang.get("/console/conversations", params={"q": "独居老人"})
    assert len(re.findall(r'href="/console/conversations/\d+"', found.text)) == 1


async def test_a_supervisor_filtering_by_another_grid_gets_nothing(client_for, city):
    lianhua = await client_for("sup-lianhua")
    response = await lianhua.get("/console/cases", params={"grid": "GX02"})
    assert refs_in(response.text) == set()
    export = await lianhua.get("/console/cases.csv", params={"grid": "GX02"})
    assert len(list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"))))) == 1  # the header only


async def test_a_supervisor_cannot_open_another_grids_conversation_row_or_contact(client_for, city):
    lianhua = await client_for("sup-lianhua")
    html = (await lianhua.get("/console/cases")).text
    token = csrf_of(html)
    other = city["fengyang"]
    assert (await lianhua.get(f"/console/cases/{other.id}/row")).status_code == 404  # type: ignore[attr-defined]
    conversations = (await lianhua.get("/console/conversations")).text
    assert "枫杨" not in conversations and "独居老人" not in conversations
    from sqlmodel import select

    from gridline.storage.models import Message

    services = lianhua._transport.app.state.console.services  # type: ignore[attr-defined]
    with services.db.session() as session:
        message = session.exec(select(Message).where(Message.case_id == other.id)).first()  # type: ignore[attr-defined]
    assert (await lianhua.get(f"/console/conversations/{message.conversation_id}")).status_code == 404
    reveal = await lianhua.post(f"/console/reveal/resident/{message.resident_id}", data={"csrf_token": token})
    assert reveal.status_code == 404
    note = await lianhua.post(f"/console/cases/{other.id}/note", data={"csrf_token": token, "text": "x"})  # type: ignore[attr-defined]
    assert note.status_code == 404


async def test_the_dashboard_counts_only_the_viewers_cases(client_for, city):
    lianhua = await client_for("sup-lianhua")
    export = await lianhua.get("/console/dashboard.csv")
    rows = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"))))
    overall_cases = next(r for r in rows if r[0] == "总体" and r[3] == "工单数")
    assert overall_cases[4] == "3"
    assert not any("枫杨" in cell or "翠竹" in cell for row in rows for cell in row)


async def test_only_admins_and_unscoped_auditors_see_the_triage_queue(client_for, city):
    admin = await client_for("admin")
    lianhua = await client_for("sup-lianhua")
    assert refs_in((await admin.get("/console/cases", params={"grid": "-"})).text) == ref_set(city, "triage")
    assert refs_in((await lianhua.get("/console/cases", params={"grid": "-"})).text) == set()


async def test_a_supervisor_paged_about_a_triage_case_can_open_it(console_services, client_for, city, factory):
    from tests.console.conftest import add_account

    add_account(console_services, "sup-peng", "supervisor", grid="GX01-01", staff="SUP-01")
    paged_to_her = factory.case(grid=None, text="不知道是哪里的积水", category="drainage", paged=["SUP-01"])
    peng = await client_for("sup-peng")
    triage_list = refs_in((await peng.get("/console/cases", params={"grid": "-"})).text)
    assert triage_list == {paged_to_her.ref}  # not the other triage case, which paged someone else
    assert (await peng.get(f"/console/cases/{paged_to_her.id}")).status_code == 200
    assert (await peng.get(f"/console/cases/{city['triage'].id}")).status_code == 404  # type: ignore[attr-defined]
    lianhua = await client_for("sup-lianhua")  # not linked to a staff record: still no triage
    assert (await lianhua.get(f"/console/cases/{paged_to_her.id}")).status_code == 404


async def test_an_auditor_reads_but_changes_nothing(client_for, city):
    auditor = await client_for("auditor")
    case = city["lianhua1"]
    html = (await auditor.get(f"/console/cases/{case.id}")).text  # type: ignore[attr-defined]
    token = csrf_of(html)
    assert 'action="/console/cases/' not in html  # no action forms are offered
    for action, data in (("note", {"text": "x"}), ("close", {"reason": "x"}), ("recategorise", {"category": "noise"})):
        response = await auditor.post(f"/console/cases/{case.id}/{action}", data={"csrf_token": token, **data})  # type: ignore[attr-defined]
        assert response.status_code == 403, action
    assert (await auditor.post("/console/reveal/resident/1", data={"csrf_token": token})).status_code == 403
    assert (await auditor.get("/console/audit")).status_code == 200


async def test_a_leader_may_note_but_not_manage_their_case(client_for, city):
    leader = await client_for("leader-cheng")
    case = city["lianhua1"]
    token = csrf_of((await leader.get(f"/console/cases/{case.id}")).text)  # type: ignore[attr-defined]
    closing = await leader.post(f"/console/cases/{case.id}/close", data={"csrf_token": token})  # type: ignore[attr-defined]
    assert closing.status_code == 403
    assert (await leader.get("/console/audit")).status_code == 403
    assert (await leader.get("/console/users")).status_code == 403
