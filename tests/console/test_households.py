"""The household roster in the console: the grid chain sees it, numbers masked, reveals and edits audited."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlmodel import select

from gridline.storage import households as roster
from gridline.storage.models import AuditLog, Household, HouseholdPerson
from tests.console.conftest import csrf_of

# Demo roster (config/demo/households.csv): ZY01-01-1 ×4, ZY01-01-2 ×2, GX01-01-1 ×2, GX01-01-2 ×1.
HE_XIULAN_HELPER = "+8617000020203"  # helper of 何秀兰's household, GX01-01-1 2-3-101


def rooms(html: str) -> list[str]:
    return re.findall(r'href="/console/households/\d+">([^<]+)</a>', html)


def household(services, building: str, unit: str, room: str) -> Household:
    with services.db.session() as session:
        return session.exec(
            select(Household).where(Household.building == building, Household.unit == unit, Household.room == room)
        ).one()


def audit(services, action: str) -> list[AuditLog]:
    with services.db.session() as session:
        return list(session.exec(select(AuditLog).where(AuditLog.action == action)))


async def test_each_role_sees_the_households_of_its_grid_chain(client_for) -> None:
    seen = {}
    for name in ("admin", "auditor", "sup-lianhua", "sup-fengyang", "leader-cheng"):
        client = await client_for(name)
        seen[name] = sorted(rooms((await client.get("/console/households")).text))
    assert len(seen["admin"]) == len(seen["auditor"]) == 9
    assert seen["sup-lianhua"] == ["2-3-101", "6-1-502", "8-2-602"]  # 莲花社区: GX01-01-1 and -2
    assert seen["leader-cheng"] == ["2-3-101", "6-1-502"]  # his own base grid GX01-01-1
    assert seen["sup-fengyang"] == []


async def test_numbers_are_masked_and_another_grids_household_is_not_found(client_for, console_services) -> None:
    supervisor = await client_for("sup-lianhua")
    mine = household(console_services, "2", "3", "101")
    page = await supervisor.get(f"/console/households/{mine.id}")
    assert page.status_code == 200 and "何秀兰" in page.text
    assert HE_XIULAN_HELPER not in page.text and "+86170****0203" in page.text
    elsewhere = household(console_services, "1", "1", "101")  # 桐柏路, ZY01-01-1
    assert (await supervisor.get(f"/console/households/{elsewhere.id}")).status_code == 404
    token = csrf_of(page.text)
    reveal = await supervisor.post(
        f"/console/households/{elsewhere.id}/reveal", data={"csrf_token": token, "who": "helper"}
    )
    assert reveal.status_code == 404


async def test_revealing_a_number_is_audited_and_not_for_auditors(client_for, console_services) -> None:
    target = household(console_services, "2", "3", "101")
    leader = await client_for("leader-cheng")
    token = csrf_of((await leader.get(f"/console/households/{target.id}")).text)
    shown = await leader.post(f"/console/households/{target.id}/reveal", data={"csrf_token": token, "who": "helper"},
                              headers={"accept": "application/json"})
    assert shown.json() == {"value": HE_XIULAN_HELPER}
    [entry] = audit(console_services, "household.reveal")
    assert (entry.actor, entry.target_id, entry.detail["who"]) == ("console:leader-cheng", str(target.id), "helper")
    assert (await leader.post(f"/console/households/{target.id}/reveal", data={"who": "helper"})).status_code == 403

    auditor = await client_for("auditor")
    token = csrf_of((await auditor.get(f"/console/households/{target.id}")).text)
    refused = await auditor.post(f"/console/households/{target.id}/reveal", data={"csrf_token": token, "who": "helper"})
    assert refused.status_code == 403 and HE_XIULAN_HELPER not in refused.text


async def test_an_edit_is_saved_and_audited_without_numbers(client_for, console_services) -> None:
    target = household(console_services, "8", "2", "602")
    supervisor = await client_for("sup-lianhua")
    page = await supervisor.get(f"/console/households/{target.id}")
    form = {"csrf_token": csrf_of(page.text), "tags": ["elderly_alone", "flying"], "consent_checkin": "1",
            "helper_name": "楼长老吴", "helper_phone": "13700137001", "notes": "新登记独居"}
    saved = await supervisor.post(f"/console/households/{target.id}", data=form)
    assert saved.status_code == 303
    after = household(console_services, "8", "2", "602")
    assert after.tags == ["elderly_alone"]  # an unknown tag is ignored
    assert after.consent_checkin and not after.consent_family
    assert (after.helper_name, after.helper_phone) == ("楼长老吴", "+8613700137001")
    [entry] = audit(console_services, "household.edit")
    assert entry.detail["changed"]["tags"] == {"from": [], "to": ["elderly_alone"]}
    assert "13700137001" not in str(entry.detail)
    # sent back as shown (masked), the helper's number is kept
    page = await supervisor.get(f"/console/households/{target.id}")
    form.update(csrf_token=csrf_of(page.text), helper_phone="+86137****7001")
    await supervisor.post(f"/console/households/{target.id}", data=form)
    assert household(console_services, "8", "2", "602").helper_phone == "+8613700137001"


async def test_auditors_cannot_edit_and_edits_need_the_csrf_token(client_for, console_services) -> None:
    target = household(console_services, "8", "2", "602")
    auditor = await client_for("auditor")
    token = csrf_of((await auditor.get(f"/console/households/{target.id}")).text)
    assert (await auditor.post(f"/console/households/{target.id}", data={"csrf_token": token})).status_code == 403
    admin = await client_for("admin")
    assert (await admin.post(f"/console/households/{target.id}", data={"tags": "hardship"})).status_code == 403
    assert household(console_services, "8", "2", "602").tags == []


async def test_filter_by_tag(client_for) -> None:
    admin = await client_for("admin")
    alone = rooms((await admin.get("/console/households", params={"tag": "elderly_alone"})).text)
    assert sorted(alone) == ["1-1-101", "2-3-101", "2-301"]


async def test_a_removed_household_leaves_the_lists_and_is_purged_after_retention(client_for, console_services) -> None:
    target = household(console_services, "6", "1", "502")
    supervisor = await client_for("sup-lianhua")
    token = csrf_of((await supervisor.get(f"/console/households/{target.id}")).text)
    unconfirmed = await supervisor.post(f"/console/households/{target.id}/remove", data={"csrf_token": token})
    assert unconfirmed.status_code == 303 and "6-1-502" in rooms((await supervisor.get("/console/households")).text)
    await supervisor.post(f"/console/households/{target.id}/remove", data={"csrf_token": token, "confirm": "1"})
    assert "6-1-502" not in rooms((await supervisor.get("/console/households")).text)
    assert (await supervisor.get(f"/console/households/{target.id}")).status_code == 404

    now = console_services.clock.now()
    days = console_services.settings.roster.retention_days
    with console_services.db.session() as session:
        assert roster.purge_removed(session, now - timedelta(days=days)) == 0  # not yet
        assert roster.purge_removed(session, now + timedelta(seconds=1)) == 1
    with console_services.db.session() as session:
        assert session.get(Household, target.id) is None
        assert session.exec(select(HouseholdPerson).where(HouseholdPerson.household_id == target.id)).all() == []


async def test_the_daily_maintenance_deletes_households_removed_before_the_retention_period(
    console_services, clock
) -> None:
    from gridline.engine.maintenance import daily_maintenance

    target = household(console_services, "6", "1", "502")
    with console_services.db.session() as session:
        row = session.get(Household, target.id)
        assert row is not None
        row.removed_at = clock.now()
        session.add(row)
    clock.advance(days=console_services.settings.roster.retention_days + 1)
    await daily_maintenance(console_services)
    with console_services.db.session() as session:
        assert session.get(Household, target.id) is None
        assert session.get(Household, household(console_services, "2", "3", "101").id) is not None  # kept
