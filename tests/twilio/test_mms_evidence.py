"""MMS evidence: a leader texts a photo of the fix; Gridline fetches it from Twilio with the account's
credentials (the fake refuses without them) and keeps it on the case."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from sqlmodel import select

from gridline.routing.evidence import strip_jpeg_metadata
from gridline.storage.models import Evidence
from tests.conftest import BACKENDS
from tests.evidence_images import jpeg, png
from tests.twilio.conftest import LI_XIUYING, LONG_XIAOYAN, TwilioWorld
from tests.twilio.test_sms_scripts import code_in


def evidence(world: TwilioWorld) -> list[Evidence]:
    with world.services.db.session() as session:
        return list(session.exec(select(Evidence).order_by(Evidence.id)))


def stored_files(world: TwilioWorld) -> list[Path]:
    return [p for p in Path(world.services.settings.evidence.path).rglob("*") if p.is_file()]


async def acknowledged_by_sms(world: TwilioWorld) -> tuple[str, object]:
    world.prefer_channels("LDR-ZY01-01-1", "sms", "voice", "web")
    resident, leader = world.phone(LI_XIUYING), world.phone(LONG_XIAOYAN)
    await resident.text("俺们楼从昨天就没水了咋弄")
    await world.settle()
    await leader.reply(code_in(leader.expect_sms("回复").body))
    await world.settle()
    leader.expect_sms("接单")
    return world.cases()[-1].ref, leader


@pytest.mark.parametrize("world", BACKENDS, indirect=True)
async def test_a_leaders_mms_with_the_reference_is_fetched_with_auth_and_kept(world: TwilioWorld) -> None:
    ref, leader = await acknowledged_by_sms(world)
    photo = jpeg(21)
    await leader.mms(f"#{ref} 管道接好了，已通水", photo, png(22), content_type="image/jpeg")
    await world.settle()
    assert f"照片已存入工单 {ref}" in leader.expect_sms("照片").body
    assert len(world.fake.media_fetched) == 2 and world.fake.media_refused == 0
    rows = evidence(world)
    assert [(r.channel, r.note, r.content_type) for r in rows] == [
        ("sms", "管道接好了，已通水", "image/jpeg"), ("sms", "管道接好了，已通水", "image/png")]
    assert rows[0].sha256 == hashlib.sha256(strip_jpeg_metadata(photo)).hexdigest()
    assert len(stored_files(world)) == 2 and world.case(ref).status == "acknowledged"


async def test_without_a_reference_the_newest_page_to_that_phone_is_meant(world: TwilioWorld) -> None:
    ref, leader = await acknowledged_by_sms(world)
    await leader.mms("", jpeg(23))
    await world.settle()
    assert ref in leader.expect_sms("照片").body
    assert [r.case_id for r in evidence(world)] == [world.case(ref).id]


async def test_bad_mms_are_answered_and_nothing_is_stored(world: TwilioWorld) -> None:
    ref, leader = await acknowledged_by_sms(world)
    await leader.mms("#QQQQQQ 好了", jpeg(24))
    await world.settle()
    assert "找不到工单 QQQQQQ" in leader.expect_sms("照片未保存").body
    await leader.mms(f"#{ref}", b"<html>not a photo</html>", content_type="image/jpeg")
    await world.settle()
    assert "只能保存 JPEG" in leader.expect_sms("未保存").body
    limit = world.services.settings.evidence.max_bytes
    await leader.mms(f"#{ref}", jpeg(25, size=limit + 1))
    await world.settle()
    assert "照片太大" in leader.expect_sms("未保存").body
    # A media URL that is not this account's message media is not fetched at all.
    await leader.text(f"#{ref}", NumMedia="1", MediaUrl0="http://169.254.169.254/latest/meta-data",
                      MediaContentType0="image/jpeg")
    await world.settle()
    assert "没能取到" in leader.expect_sms("未保存").body
    assert evidence(world) == [] and stored_files(world) == []
    assert len(world.fake.media_fetched) == 2  # the two well-formed bad ones; the forged URL never


async def test_a_resident_mms_is_still_a_photo_of_their_report_not_evidence(world: TwilioWorld) -> None:
    resident = world.phone(LI_XIUYING)
    await resident.mms("桐柏路199号院水管爆了", jpeg(26))
    await world.settle()
    assert evidence(world) == [] and world.fake.media_fetched == []
    assert len(world.cases()) == 1
