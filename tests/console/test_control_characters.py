"""A NUL (or another control character) in a query string, a form or a path is dropped at the edge,
on PostgreSQL too (gridline.edge.cleaning).

Found driving a production server on PostgreSQL: ``/console/cases?grid=%00``, ``?q=%00``, a merge
naming ``A%00B``, an Open311 ``service_code=%00`` (no login needed) were each a 500 — PostgreSQL
refuses NUL in a text parameter — and a NUL in a note or a close reason was stored in the case's
timeline. docs/operations.md: "NUL and other control characters are stripped from every stored
provider payload and form".
"""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from sqlmodel import select

from gridline.edge.cleaning import clean_urlencoded
from gridline.kernel.services import Services
from gridline.storage.models import CaseEvent
from tests.conftest import MakeServices
from tests.console.conftest import ClientFor, csrf_of
from tests.console.factories import CaseFactory

pytestmark = pytest.mark.slow


@pytest.fixture
async def services(make_services: MakeServices) -> Services:
    """The console's fixtures on PostgreSQL (SQLite stores a NUL without a word)."""
    return await make_services("postgres")


@pytest.mark.parametrize(("raw", "clean"), [
    (b"grid=%00", b"grid="), (b"q=a%00b%7Fc%1F", b"q=abc"), (b"q=%C2%85x", b"q=x"), (b"q=a\x00b", b"q=ab"),
    (b"q=%E6%B0%B4+%0A%09%0D", b"q=%E6%B0%B4+%0A%09%0D"), (b"q=%2500", b"q=%2500"), (b"q=%c2%9f", b"q="),
    # Credentials are compared as sent (tests/core/test_open311_bad_input.py): never cleaned.
    (b"name=a%00b&password=p%00w&api_key=k%00&csrf_token=t%01", b"name=ab&password=p%00w&api_key=k%00&csrf_token=t%01"),
])
def test_what_is_dropped(raw: bytes, clean: bytes) -> None:
    assert clean_urlencoded(raw) == clean


LISTS = ["/console/cases", "/console/cases.csv", "/console/conversations", "/console/dashboard",
         "/console/dashboard.csv", "/console/households", "/console/follow-ups", "/console/audit"]
PARAMS = ["grid", "q", "category", "status", "priority", "channel", "sla", "rating", "level", "actor"]


async def test_every_list_takes_a_nul_in_every_filter(client_for: ClientFor) -> None:
    admin = await client_for("admin")
    for path in LISTS:
        for name in PARAMS:
            response = await admin.get(f"{path}?{name}=%00")
            assert response.status_code == 200, (path, name, response.status_code)


async def test_forms_naming_a_case_or_a_person_with_a_nul_are_refused_not_a_500(
    client_for: ClientFor, factory: CaseFactory, console_services: Services
) -> None:
    case = factory.case(grid="GX01-01-1", staff="LDR-GX01-01-1")
    other = factory.case(grid="GX01-01-1")
    admin = await client_for("admin")
    csrf = csrf_of((await admin.get(f"/console/cases/{case.id}")).text)
    merged = await admin.post(f"/console/cases/{case.id}/merge", data={"csrf_token": csrf, "into": "AB\x00C"})
    assert merged.status_code == 303 and "error=" in merged.headers["location"]
    reassigned = await admin.post(f"/console/cases/{case.id}/reassign", data={"csrf_token": csrf, "staff": "LDR\x00"})
    assert reassigned.status_code == 303 and "error=" in reassigned.headers["location"]
    # A reference with a NUL typed into it is the reference.
    merged = await admin.post(f"/console/cases/{other.id}/merge",
                              data={"csrf_token": csrf, "into": f"{case.ref[:2]}\x00{case.ref[2:]}"})
    assert merged.headers["location"].endswith("done=merged"), merged.headers["location"]
    noted = await admin.post(f"/console/cases/{case.id}/note", data={"csrf_token": csrf, "text": "门\x00口\x07有水"})
    assert noted.headers["location"].endswith("done=noted")
    with console_services.db.session() as session:
        notes = session.exec(select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.kind == "note")).all()
    assert [event.data["text"] for event in notes] == ["门口有水"]
    page = await admin.get(f"/console/cases/{case.id}")
    assert page.status_code == 200 and "门口有水" in page.text


async def test_a_nul_in_a_login_form_is_a_failed_login(anonymous: httpx.AsyncClient) -> None:
    form = await anonymous.get("/console/login")
    token = form.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    response = await anonymous.post("/console/login", data={"csrf_token": token, "name": "ad\x00min",
                                                            "password": "x\x00", "next": "/console/cases"})
    assert response.status_code in (200, 401, 403), response.status_code


async def test_open311_reading_takes_a_nul_without_a_login(app: FastAPI) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://o.test") as anyone:
        for query in ("service_code=%00", "service_request_id=%00", "status=%00", "start_date=%00"):
            response = await anyone.get(f"/open311/v2/requests.json?{query}")
            assert response.status_code in (200, 400), (query, response.status_code)
        assert (await anyone.get("/open311/v2/requests/%00.json")).status_code == 404
        assert (await anyone.get("/console/cases/1%00")).status_code == 404


async def test_a_nul_in_an_evidence_photos_note_is_dropped(
    client_for: ClientFor, factory: CaseFactory, console_services: Services
) -> None:
    from gridline.storage.models import Evidence
    from tests.console.test_evidence import upload
    from tests.evidence_images import jpeg

    case = factory.case(grid="GX01-01-1", staff="LDR-GX01-01-1")
    supervisor = await client_for("sup-lianhua")
    done = await upload(supervisor, case.id or 0, jpeg(1), note="阀门\x00已更换")
    assert done.status_code == 303 and "done=evidence_attached" in done.headers["location"], done.headers
    with console_services.db.session() as session:
        assert [row.note for row in session.exec(select(Evidence)).all()] == ["阀门已更换"]
