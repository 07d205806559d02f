"""What residents write is shown as text, never run; contact details are masked until revealed,
and every reveal is audited."""

from __future__ import annotations

import csv
import io

from sqlmodel import select

from gridline.domain.privacy import mask_handle, mask_phone, mask_text
from gridline.storage.models import AuditLog, Case, CaseEvent, Message
from tests.console.conftest import csrf_of
from tests.console.factories import CaseFactory

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)><b>粗体</b>'


def assert_inert(html: str, shown: bool = True) -> None:
    assert "<script>alert" not in html
    assert "<img src=x" not in html
    assert "<b>粗体</b>" not in html
    if shown:
        assert "&lt;img src=x" in html


async def test_html_in_a_residents_message_renders_as_text_everywhere(
    client_for, factory: CaseFactory, console_services
):
    case = factory.case(text=HOSTILE, handle='@x"><script>alert(2)</script>')
    with console_services.db.session() as session:
        row = session.get(Case, case.id)
        row.rating_comment = HOSTILE
        row.explanation = [{"decision": "grid", "reason": HOSTILE, HOSTILE: HOSTILE}]
        session.add(row)
        session.add(CaseEvent(case_id=case.id or 0, at=factory.now, kind="note", actor="console:x",
                              data={"text": HOSTILE}))
        message = session.exec(select(Message).where(Message.case_id == case.id, Message.direction == "in")).one()
        # An entity whose offsets cut through the markup must not produce markup either.
        entity = {"entity": "address<i>", "value": "<i>x</i>", "start": 3, "end": 20}
        message.nlu = {**message.nlu, "entities": [entity]}
        session.add(message)
    admin = await client_for("admin")
    for url in ("/console/cases", f"/console/cases/{case.id}", f"/console/cases/{case.id}/row",
                "/console/conversations", f"/console/conversations/{message.conversation_id}",
                "/console/cases?q=%3Cscript%3E"):
        response = await admin.get(url)
        assert response.status_code == 200, url
        # The conversation list shows the latest message: here Gridline's reply.
        assert_inert(response.text, shown=url != "/console/conversations")
        assert "<i>x</i>" not in response.text and "address<i>" not in response.text


async def test_console_pages_forbid_inline_scripts(client_for):
    admin = await client_for("admin")
    response = await admin.get("/console/cases")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["cache-control"] == "no-store"


async def test_csv_cells_that_look_like_formulas_are_neutralised(client_for, factory: CaseFactory):
    factory.case(text='=HYPERLINK("http://evil.example","点我")')
    admin = await client_for("admin")
    body = (await admin.get("/console/cases.csv")).content
    assert body.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[1][-1].startswith("'=HYPERLINK")


async def test_phone_numbers_and_handles_are_masked_by_default(client_for, factory: CaseFactory):
    case = factory.case(phone="+8613912345678", handle="@wangfang_1960", text="我的电话是13912345678，快来人")
    admin = await client_for("admin")
    pages = [(await admin.get(url)).text for url in
             ("/console/cases", f"/console/cases/{case.id}", "/console/conversations")]
    pages.append((await admin.get("/console/cases.csv")).content.decode("utf-8-sig"))
    for text in pages:
        assert "13912345678" not in text and "wangfang_1960" not in text
    case_page = pages[1]
    assert "+86139****5678" in case_page and "139****5678" in case_page and "@wa***60" in case_page


async def test_revealing_a_number_is_audited(client_for, factory: CaseFactory, console_services):
    case = factory.case(phone="+8613912345678")
    supervisor = await client_for("sup-lianhua")
    token = csrf_of((await supervisor.get(f"/console/cases/{case.id}")).text)
    response = await supervisor.post(f"/console/reveal/resident/{case.resident_id}",
                                     data={"csrf_token": token}, headers={"accept": "application/json"})
    assert response.json() == {"value": "+8613912345678"}
    without_script = await supervisor.post(f"/console/reveal/resident/{case.resident_id}", data={"csrf_token": token})
    assert "+8613912345678" in without_script.text
    with console_services.db.session() as session:
        reveals = session.exec(select(AuditLog).where(AuditLog.action == "console.reveal")).all()
    assert [(r.actor, r.target_kind, r.target_id) for r in reveals] == [
        ("console:sup-lianhua", "resident", str(case.resident_id))] * 2
    assert reveals[0].detail["case_id"] == case.id


async def test_revealing_needs_the_csrf_token(client_for, factory: CaseFactory):
    case = factory.case(phone="+8613912345678")
    admin = await client_for("admin")
    response = await admin.post(f"/console/reveal/resident/{case.resident_id}", data={})
    assert response.status_code == 403
    assert "13912345678" not in response.text


def test_masking_keeps_enough_to_tell_numbers_apart():
    assert mask_phone("+8613912345678") == "+86139****5678"
    assert mask_phone("13912345678") == "139****5678"
    assert mask_phone("12345") == "12**5"
    assert mask_handle("@wangfang_1960") == "@wa***60"
    assert mask_text("电话 139-1234-5678 或 @lihua_88") == "电话 139-****-5678 或 @li***88"
    # Dates and house numbers are not phone numbers.
    assert mask_text("2026-11-26 在3号楼201") == "2026-11-26 在3号楼201"
