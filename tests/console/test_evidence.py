"""Evidence photos in the console: uploaded on the case page and in the staff inbox, checked, stored
once by content hash, shown on the timeline and served only to viewers who may see the case."""

from __future__ import annotations

import hashlib
import io
import re
from datetime import timedelta
from pathlib import Path

from PIL import Image
from sqlmodel import select

from gridline.storage.models import AuditLog, CaseEvent, Evidence
from tests.console.conftest import csrf_of
from tests.console.factories import CaseFactory
from tests.evidence_images import GPS_MARK, jpeg, photo, png


def held(factory: CaseFactory, grid: str = "GX01-01-1", staff: str = "LDR-GX01-01-1"):
    return factory.case(grid=grid, staff=staff, ack_after=timedelta(minutes=5))


def rows(services) -> list[Evidence]:
    with services.db.session() as session:
        return list(session.exec(select(Evidence).order_by(Evidence.id)))


def stored_files(services) -> list[Path]:
    return [p for p in Path(services.settings.evidence.path).rglob("*") if p.is_file()]


async def upload(client, case_id: int, data: bytes, *, name: str = "fix.jpg", note: str = "",
                 where: str = "cases", page: str | None = None):  # fmt: skip
    html = (await client.get(page or f"/console/cases/{case_id}")).text
    return await client.post(
        f"/console/evidence/{where}/{case_id}",
        data={"csrf_token": csrf_of(html), "note": note},
        files={"photo": (name, data, "image/jpeg")},
    )


async def test_a_supervisor_adds_a_photo_it_is_on_the_timeline_and_served_to_who_may_see_it(
    client_for, factory, console_services, anonymous
):
    case = held(factory)
    supervisor = await client_for("sup-lianhua")
    photo = jpeg(1)
    done = await upload(supervisor, case.id, photo, note="阀门已更换")
    assert done.status_code == 303 and "done=evidence_attached" in done.headers["location"]
    (row,) = rows(console_services)
    assert (row.case_id, row.content_type, row.channel, row.actor) == (case.id, "image/jpeg", "console",
                                                                       "console:sup-lianhua")
    (path,) = stored_files(console_services)
    kept = path.read_bytes()
    assert GPS_MARK not in kept and kept.startswith(b"\xff\xd8\xff")  # EXIF (GPS) removed, picture kept
    assert row.sha256 == hashlib.sha256(kept).hexdigest() == path.name and row.size == len(kept)

    page = (await supervisor.get(f"/console/cases/{case.id}")).text
    assert f'src="/console/evidence/{row.id}/thumb"' in page and "阀门已更换" in page
    served = await supervisor.get(f"/console/evidence/{row.id}")
    assert served.status_code == 200 and served.content == kept and served.headers["content-type"] == "image/jpeg"
    other_grid = await client_for("sup-fengyang")
    assert (await other_grid.get(f"/console/evidence/{row.id}")).status_code == 404
    nobody = await anonymous.get(f"/console/evidence/{row.id}", headers={"accept": "image/*"})
    assert nobody.status_code in (303, 401) and nobody.content != kept
    with console_services.db.session() as session:
        kinds = [e.kind for e in session.exec(select(CaseEvent).where(CaseEvent.case_id == case.id))]
        audited = session.exec(select(AuditLog).where(AuditLog.action == "case.evidence")).all()
    assert "evidence" in kinds and len(audited) == 1


async def test_the_same_bytes_are_stored_once(client_for, factory, console_services):
    first, second = held(factory), held(factory)
    admin = await client_for("admin")
    photo = png(7)
    await upload(admin, first.id, photo, name="a.png")
    again = await upload(admin, first.id, photo, name="b.png")
    assert "done=evidence_already_attached" in again.headers["location"]
    await upload(admin, second.id, photo, name="c.png")
    found = rows(console_services)
    assert [r.case_id for r in found] == [first.id, second.id] and found[0].sha256 == found[1].sha256
    assert len(stored_files(console_services)) == 1


async def test_oversized_and_non_image_uploads_are_refused_and_nothing_is_stored(client_for, factory,
                                                                                 console_services, make_services):
    case = held(factory)
    supervisor = await client_for("sup-lianhua")
    limit = console_services.settings.evidence.max_bytes
    big = await upload(supervisor, case.id, jpeg(2, size=limit + 10))
    assert "error=evidence_too_large" in big.headers["location"]
    pdf = await upload(supervisor, case.id, b"%PDF-1.4 not a photo", name="fix.jpg")  # named .jpg, it is not
    assert "error=evidence_not_an_image" in pdf.headers["location"]
    empty = await upload(supervisor, case.id, b"")
    assert "error=evidence_empty" in empty.headers["location"]
    shown = (await supervisor.get(big.headers["location"])).text
    assert "照片太大" in shown
    assert rows(console_services) == [] and stored_files(console_services) == []
    # Far past the limit: refused before the body is read.
    url = f"/console/evidence/cases/{case.id}"
    huge = await supervisor.post(url, files={"photo": ("x.jpg", b"\xff" * (3 * limit))})
    assert huge.status_code == 413


async def test_who_may_upload_on_the_case_page(client_for, factory, console_services):
    mine = held(factory)
    elsewhere = held(factory, grid="GX02-01-1", staff=None)
    auditor = await client_for("auditor")
    token = csrf_of((await auditor.get(f"/console/cases/{mine.id}")).text)
    refused = await auditor.post(f"/console/evidence/cases/{mine.id}", data={"csrf_token": token},
                                 files={"photo": ("a.jpg", jpeg(3))})
    assert refused.status_code == 403
    supervisor = await client_for("sup-lianhua")
    token = csrf_of((await supervisor.get("/console/cases")).text)
    hidden = await supervisor.post(f"/console/evidence/cases/{elsewhere.id}", data={"csrf_token": token},
                                   files={"photo": ("a.jpg", jpeg(3))})
    assert hidden.status_code == 404  # another supervisor's grid: as if it did not exist
    no_csrf = await supervisor.post(f"/console/evidence/cases/{mine.id}", files={"photo": ("a.jpg", jpeg(3))})
    assert no_csrf.status_code == 403
    leader = await client_for("leader-cheng")  # 程振华 holds it
    ok = await upload(leader, mine.id, jpeg(4))
    assert "done=evidence_attached" in ok.headers["location"]
    assert [r.case_id for r in rows(console_services)] == [mine.id]


async def test_a_leader_adds_a_photo_from_the_staff_inbox(client_for, factory, console_services):
    case = held(factory)
    leader = await client_for("leader-cheng")
    inbox = (await leader.get("/console/inbox")).text
    assert f'action="/console/evidence/inbox/{case.id}"' in inbox
    done = await upload(leader, case.id, jpeg(5), where="inbox", page="/console/inbox", note="修好了")
    location = done.headers["location"]
    assert done.status_code == 303 and location.startswith("/console/inbox") and "done=evidence_attached" in location
    assert case.ref in (await leader.get(location)).text
    (row,) = rows(console_services)
    assert (row.channel, row.note, row.staff_id) == ("inbox", "修好了", factory.staff_id("LDR-GX01-01-1"))
    bad = await upload(leader, case.id, b"GIF89a....", where="inbox", page="/console/inbox")
    assert "done=evidence_not_an_image" in bad.headers["location"]
    assert re.search("只能上传 JPEG", (await leader.get(bad.headers["location"])).text)
    not_theirs = held(factory, grid="GX02-01-1", staff="LDR-GX02-01-1")
    token = csrf_of(inbox)
    refused = await leader.post(f"/console/evidence/inbox/{not_theirs.id}", data={"csrf_token": token},
                                files={"photo": ("a.jpg", jpeg(6))})
    assert refused.status_code == 404
    assert len(rows(console_services)) == 1


async def test_a_real_photo_gets_a_small_thumbnail_without_its_exif(client_for, factory, console_services, anonymous):
    case = held(factory)
    supervisor = await client_for("sup-lianhua")
    original = photo(1600, 1200)
    assert GPS_MARK in original
    await upload(supervisor, case.id, original)
    (row,) = rows(console_services)
    full = await supervisor.get(f"/console/evidence/{row.id}")
    thumb = await supervisor.get(f"/console/evidence/{row.id}/thumb")
    assert full.status_code == thumb.status_code == 200 and GPS_MARK not in full.content
    with Image.open(io.BytesIO(full.content)) as big, Image.open(io.BytesIO(thumb.content)) as small:
        assert big.size == (1600, 1200) and small.format == "JPEG" and max(small.size) == 320
    assert len(thumb.content) < len(full.content) and GPS_MARK not in thumb.content
    other_grid = await client_for("sup-fengyang")
    assert (await other_grid.get(f"/console/evidence/{row.id}/thumb")).status_code == 404
    assert (await anonymous.get(f"/console/evidence/{row.id}/thumb")).content != thumb.content
