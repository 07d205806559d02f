"""Evidence in the sandbox: the leader's side adds a photo to a paged case; it shows on the timeline."""

from __future__ import annotations

from sqlmodel import select

from gridline.storage.models import Evidence
from tests.evidence_images import jpeg
from tests.web.support import API, Sandbox

LEADER = "LDR-ZY01-01-1"  # 龙小燕, paged for 桐柏路199号院


async def test_a_photo_from_the_leaders_side_is_on_the_timeline(sandbox: Sandbox) -> None:
    resident = {"resident_id": await sandbox.resident_id("李秀英")}
    leader_id = await sandbox.staff_id(LEADER)
    chat = await sandbox.say(resident, text="俺们楼从昨天就没水了咋弄")
    (case,) = chat["cases"]
    (page,) = await sandbox.inbox(leader_id)
    fields = {"staff_id": str(leader_id), "page_id": str(page["page_id"]), "note": "阀门换好了"}
    photo_file = {"photo": ("fix.jpg", jpeg(51), "image/jpeg")}
    upload = await sandbox.http.post(f"{API}/evidence", data=fields, files=photo_file)
    assert upload.status_code == 200 and upload.json()["code"] == "attached" and case["ref"] in upload.json()["text"]
    timeline = (await sandbox.http.get(f"{API}/cases/{page['case']['id']}")).json()["entries"]
    (photo,) = [e for e in timeline if e.get("photo_url")]
    assert "现场照片" in photo["text"] and photo["note"] == "阀门换好了"
    served = await sandbox.http.get(photo["photo_url"])
    assert served.status_code == 200 and served.content.startswith(b"\xff\xd8\xff")

    bad = await sandbox.http.post(f"{API}/evidence", data={"staff_id": str(leader_id), "page_id": str(page["page_id"])},
                                  files={"photo": ("x.jpg", b"not an image", "image/jpeg")})
    assert bad.status_code == 400 and "JPEG" in bad.json()["text"]
    someone_else = await sandbox.staff_id("LDR-GX01-01-1")
    wrong = await sandbox.http.post(f"{API}/evidence", data={"staff_id": str(someone_else),
                                                             "page_id": str(page["page_id"])},
                                    files={"photo": ("x.jpg", jpeg(52), "image/jpeg")})  # fmt: skip
    assert wrong.status_code == 404
    missing = await sandbox.http.post(f"{API}/evidence", data={"page_id": "x"})
    assert missing.status_code == 400
    with sandbox.services.db.session() as session:
        assert len(session.exec(select(Evidence)).all()) == 1
