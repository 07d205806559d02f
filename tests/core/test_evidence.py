"""Evidence in the core: the S3 store against a fake S3 that checks SigV4, Open311's signed
``media_url``, and the retention purge of photos."""

from __future__ import annotations

import asyncio
import hashlib
import io
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlmodel import select

from gridline.app import create_app
from gridline.core.conversation import handle_inbound
from gridline.engine.retention import purge_old_text
from gridline.kernel.messages import InboundMessage
from gridline.kernel.work import in_transaction
from gridline.routing import evidence
from gridline.routing.actions import act_on_case
from gridline.routing.evidence import Uploader, attach, image_type, strip_jpeg_metadata
from gridline.routing.supervision import close_case
from gridline.settings import EvidenceSettings
from gridline.storage.blobs import S3BlobStore, sigv4_headers
from gridline.storage.models import Case, CaseEvent, Evidence, Staff
from tests.conftest import BACKENDS
from tests.core.fake_s3 import FakeS3
from tests.evidence_images import GPS_MARK, jpeg, png

LI_XIUYING = "+8617000010001"
ACCESS, SECRET = "AKIDGRIDLINETEST", "test-secret-not-a-real-key"  # placeholders for the fake S3


def test_sigv4_matches_the_published_aws_example():
    """AWS's own example (S3 API reference, "GET Object" with a Range header)."""
    empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    signed = sigv4_headers(
        "GET", "https://examplebucket.s3.amazonaws.com/test.txt", {"Range": "bytes=0-9"}, empty,
        access_key="AKIAIOSFODNN7EXAMPLE", secret_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        region="us-east-1", now=datetime(2013, 5, 24, tzinfo=UTC),
    )  # fmt: skip
    assert signed["Authorization"] == (
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
        "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
        "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
    )


def test_magic_bytes_decide_the_type_and_jpeg_metadata_goes():
    assert image_type(jpeg(1)) == "image/jpeg" and image_type(png(1)) == "image/png"
    assert image_type(b"RIFF\x10\x00\x00\x00WEBPVP8 ") == "image/webp"
    assert image_type(b"GIF89a") is None and image_type(b"%PDF-1.7") is None and image_type(b"") is None
    stripped = strip_jpeg_metadata(jpeg(1))
    assert GPS_MARK in jpeg(1) and GPS_MARK not in stripped and stripped.endswith(b"\xff\xd9")
    assert strip_jpeg_metadata(jpeg(1, exif=False)) == jpeg(1, exif=False)


@pytest.fixture
async def fake_s3():
    s3 = await FakeS3(access_key=ACCESS, secret_key=SECRET, bucket="gridline-evidence").start()
    yield s3
    await s3.close()


def s3_settings(fake: FakeS3, **extra) -> dict:
    return {"store": "s3", "s3_endpoint": fake.base_url, "s3_bucket": fake.bucket, "s3_access_key": ACCESS,
            "s3_secret_key": SECRET, **extra}  # fmt: skip


async def paged_case(services, drain) -> tuple[Case, int]:
    return await paged_case_for(services, drain, LI_XIUYING, "俺们楼从昨天就没水了咋弄", "E1")


async def paged_case_for(services, drain, phone: str, text: str, sid: str) -> tuple[Case, int]:
    outcome = await handle_inbound(services, InboundMessage(channel="sms", external_id=phone, text=text,
                                                            provider_message_id=sid))  # fmt: skip
    await drain(services)
    with services.db.session() as session:
        case = session.exec(select(Case).where(Case.ref == outcome.case_ref)).one()
        leader = session.exec(select(Staff).where(Staff.code == "LDR-ZY01-01-1")).one()
    return case, leader.id or 0


async def test_s3_store_round_trip_signed_and_stored_once(fake_s3: FakeS3):
    store = S3BlobStore(EvidenceSettings(**s3_settings(fake_s3)))
    data = png(3)
    sha = hashlib.sha256(data).hexdigest()
    assert await asyncio.to_thread(store.put, sha, data, "image/png") is True
    assert await asyncio.to_thread(store.put, sha, data, "image/png") is False  # HEAD says it is there
    assert await asyncio.to_thread(store.get, sha) == data
    assert fake_s3.objects[f"evidence/{sha}"] == (data, "image/png")
    assert [m for m, _k, _s in fake_s3.log].count("PUT") == 1
    await asyncio.to_thread(store.delete, sha)
    assert await asyncio.to_thread(store.get, sha) is None
    wrong = S3BlobStore(EvidenceSettings(**s3_settings(fake_s3, s3_secret_key="not-the-secret")))
    with pytest.raises(evidence.BlobStoreError):
        await asyncio.to_thread(wrong.put, sha, data, "image/png")
    assert fake_s3.objects == {}


@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_photo_kept_in_s3_is_on_the_case_and_behind_a_signed_open311_media_url(
    make_services, backend, fake_s3, drain, clock
):
    services = await make_services(backend, evidence=s3_settings(fake_s3, media_url_minutes=30))
    case, leader = await paged_case(services, drain)
    photo = jpeg(31)
    result = await attach(services, data=photo, uploader=Uploader("staff:LDR-ZY01-01-1", leader), channel="sms",
                          ref=case.ref, note="水管已修复 李秀英 13800000000")  # fmt: skip
    assert result.ok and result.code == "attached"
    kept = strip_jpeg_metadata(photo)
    assert fake_s3.objects[f"evidence/{hashlib.sha256(kept).hexdigest()}"][0] == kept

    app = create_app(services, run_jobs=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        detail = (await client.get(f"/open311/v2/requests/{case.ref}.json")).json()[0]
        url = detail["media_url"]
        assert url and "13800000000" not in str(detail) and "李秀英" not in str(detail)
        parts = urlsplit(url)
        assert parts.path == f"/open311/v2/media/{result.evidence_id}"
        listed = (await client.get(f"/open311/v2/requests.json?service_request_id={case.ref}")).json()[0]
        assert listed["media_url"] == url
        served = await client.get(f"{parts.path}?{parts.query}")
        assert served.status_code == 200 and served.content == kept and served.headers["content-type"] == "image/jpeg"
        query = parse_qs(parts.query)
        forged = await client.get(f"{parts.path}?expires={int(query['expires'][0]) + 3600}&sig={query['sig'][0]}")
        assert forged.status_code == 403
        assert (await client.get(parts.path)).status_code == 403
        clock.advance(minutes=61)  # past at most two windows of 30 minutes
        expired = await client.get(f"{parts.path}?{parts.query}")
        assert expired.status_code == 403 and expired.content != kept


async def test_bad_uploads_and_outsiders_store_nothing(services, drain):
    case, leader = await paged_case(services, drain)
    uploader = Uploader("staff:LDR-ZY01-01-1", leader)
    limit = services.settings.evidence.max_bytes
    codes = [
        (await attach(services, data=jpeg(1, size=limit), uploader=uploader, channel="sms", ref=case.ref)).code,
        (await attach(services, data=b"BM\x00\x00 a bitmap", uploader=uploader, channel="sms", ref=case.ref)).code,
        (await attach(services, data=jpeg(2), uploader=uploader, channel="sms", ref="NOSUCH")).code,
    ]
    with services.db.session() as session:
        outsider = session.exec(select(Staff).where(Staff.code == "LDR-GX02-01-1")).one()
    codes.append((await attach(services, data=jpeg(3), uploader=Uploader("staff:x", outsider.id), channel="sms",
                               ref=case.ref)).code)  # fmt: skip
    assert codes == ["too_large", "not_an_image", "unknown_case", "not_allowed"]
    with services.db.session() as session:
        assert session.exec(select(Evidence)).all() == []
    assert not [p for p in Path(services.settings.evidence.path).rglob("*") if p.is_file()]


async def test_retention_purges_photos_of_closed_cases_and_keeps_shared_bytes(make_services, drain, clock):
    services = await make_services(console={"retention_days": 30})
    case, leader = await paged_case(services, drain)
    uploader = Uploader("staff:LDR-ZY01-01-1", leader)
    shared, own = png(41), jpeg(42)
    first = await attach(services, data=own, uploader=uploader, channel="sms", ref=case.ref, note="修好了")
    await attach(services, data=shared, uploader=uploader, channel="sms", ref=case.ref)
    await act_on_case(services, case_id=case.id or 0, staff_id=leader, action="resolve", channel="web")
    await drain(services)
    await close_case(services, case.id or 0, "console:admin", "done")
    clock.advance(days=20)
    other = await handle_inbound(services, InboundMessage(channel="sms", external_id="+8617000010002",
                                                          text="桐柏路199号院电梯坏了", provider_message_id="E2"))
    await drain(services)
    with services.db.session() as session:
        still_open = session.exec(select(Case).where(Case.ref == other.case_ref)).one()
        leader_there = session.exec(select(Staff).where(Staff.code == "LDR-ZY01-01-1")).one()
    await attach(services, data=shared, uploader=Uploader("staff:x", leader_there.id), channel="sms",
                 ref=still_open.ref)  # the same bytes on a case that stays open
    files = {p.name for p in Path(services.settings.evidence.path).rglob("*") if p.is_file()}
    assert len(files) == 2

    clock.advance(days=11)
    await purge_old_text(services)
    with services.db.session() as session:
        rows = {r.id: r for r in session.exec(select(Evidence))}
        events = session.exec(select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.kind == "evidence"))
        texts = [e.data.get("text") for e in events]
    purged = rows[first.evidence_id]
    assert (purged.sha256, purged.note) == (None, None) and purged.purged_at is not None
    assert texts == [None, None]
    left = {p.name for p in Path(services.settings.evidence.path).rglob("*") if p.is_file()}
    assert left == {hashlib.sha256(shared).hexdigest()}  # the open case still points at it
    assert evidence.store_of(services).get(hashlib.sha256(strip_jpeg_metadata(own)).hexdigest()) is None
    app = create_app(services, run_jobs=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        assert (await client.get(f"/open311/v2/requests/{case.ref}.json")).json()[0]["media_url"] is None
        assert (await client.get(f"/open311/v2/requests/{still_open.ref}.json")).json()[0]["media_url"]


def test_png_and_webp_lose_their_text_and_exif_and_still_open():
    from PIL import Image, PngImagePlugin

    image = Image.new("RGB", (64, 48), (10, 200, 90))
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", GPS_MARK.decode())
    exif = Image.Exif()
    exif[0x010E] = GPS_MARK.decode()
    png_out, webp_out = io.BytesIO(), io.BytesIO()
    image.save(png_out, "PNG", pnginfo=info, exif=exif.tobytes())
    image.save(webp_out, "WEBP", exif=exif.tobytes())
    for data, kind in ((png_out.getvalue(), "PNG"), (webp_out.getvalue(), "WEBP")):
        assert GPS_MARK in data
        checked = evidence.checked_image(data, 10_000_000)
        assert not isinstance(checked, str)
        kept, _content_type = checked
        assert GPS_MARK not in kept and len(kept) < len(data)
        with Image.open(io.BytesIO(kept)) as reopened:
            reopened.load()
            assert (reopened.format, reopened.size) == (kind, (64, 48))


async def test_the_department_loop_attaches_with_its_own_rule_and_cites_only_its_cases_photos(services, drain):
    """What the department loop calls: attach(channel="department", permitted=...) and evidence_on_case."""
    case, leader = await paged_case(services, drain)
    other, _ = await paged_case_for(services, drain, "+8617000010002", "桐柏路199号院电梯坏了", "E3")
    with services.db.session() as session:
        department = session.exec(select(Staff).where(Staff.code == "DEP-WATER-2")).one()

    def accepted_transfer(work, found: Case) -> bool:  # the department's rule, decided by the loop
        return found.id == case.id

    done = await attach(services, data=png(61), uploader=Uploader("staff:DEP-WATER-2", department.id),
                        channel="department", case_id=case.id, note="更换水表", permitted=accepted_transfer)
    refused = await attach(services, data=png(62), uploader=Uploader("staff:DEP-WATER-2", department.id),
                           channel="department", case_id=other.id, permitted=accepted_transfer)
    assert (done.code, refused.code) == ("attached", "not_allowed")
    theirs = await attach(services, data=png(63), uploader=Uploader("staff:LDR-ZY01-01-1", leader), channel="sms",
                          case_id=other.id)  # fmt: skip
    cited = await in_transaction(services, evidence.evidence_on_case, case.id, [done.evidence_id,
                                                                              theirs.evidence_id, 99999])
    assert [row.id for row in cited] == [done.evidence_id] and cited[0].channel == "department"
