"""The audit log is scoped like every other list (issue 10): a grid-scoped auditor reads the entries
about their grids and their own actions, nothing of other grids."""

from __future__ import annotations

from sqlmodel import select

from gridline.storage.audit import record
from gridline.storage.models import Message, Staff
from tests.console.conftest import add_account
from tests.console.factories import CaseFactory


async def test_a_grid_scoped_auditor_reads_only_their_grids_entries(client_for, factory: CaseFactory,
                                                                    console_services) -> None:
    services = console_services
    add_account(services, "auditor-lianhua", "auditor", grid="GX01-01")
    here = factory.case(grid="GX01-01-1", text="莲花一网格停水了")
    there = factory.case(grid="GX02-02-2", text="枫杨社区独居老人没人管", category="elderly_care")
    now = services.clock.now()
    with services.db.session() as session:
        message_there = session.exec(select(Message).where(Message.case_id == there.id)).first()
        staff_here = session.exec(select(Staff).where(Staff.code == "LDR-GX01-01-1")).one()
        staff_there = session.exec(select(Staff).where(Staff.code == "LDR-GX02-02-2")).one()
        assert message_there is not None
        entries = [
            ("console:note-here", "case.note", "case", here.id),
            ("console:note-there", "case.note", "case", there.id),
            ("console:reveal-there", "console.reveal", "message", message_there.id),
            ("console:staff-here", "staff.telegram_linked", "staff", staff_here.id),
            ("console:staff-there", "staff.telegram_linked", "staff", staff_there.id),
            ("console:export-there", "console.export_cases", "cases", ""),
            ("console:login-there", "console.login", "console_user", 1),
        ]
        for actor, action, kind, target in entries:
            record(session, at=now, actor=actor, action=action, target_kind=kind, target_id=target or "",
                   detail={"q": "张三"} if kind == "cases" else {})
    scoped = await client_for("auditor-lianhua")
    html = (await scoped.get("/console/audit")).text
    assert "console:note-here" in html and "console:staff-here" in html
    assert "console:auditor-lianhua" in html  # their own login
    for hidden in ("note-there", "reveal-there", "staff-there", "export-there", "login-there", "张三"):
        assert hidden not in html, hidden
    everything = (await (await client_for("auditor")).get("/console/audit")).text
    assert all(actor in everything for actor, *_ in entries)
