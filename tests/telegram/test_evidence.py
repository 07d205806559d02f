"""Evidence on Telegram (both libraries): the leader's photo of the fix, tagged #REF or sent as a
reply to the page, is downloaded from the Bot API (getFile + the file URL) and kept on the case."""

from __future__ import annotations

import hashlib
from pathlib import Path

from sqlmodel import select

from gridline.routing.evidence import strip_jpeg_metadata
from gridline.storage.models import CaseEvent, Evidence
from tests.evidence_images import GPS_MARK, jpeg
from tests.telegram.conftest import TelegramWorld
from tests.telegram.support import only_case
from tests.telegram.test_staff import YE_BAOGUO, reported_case


def evidence(world: TelegramWorld) -> list[Evidence]:
    with world.services.db.session() as session:
        return list(session.exec(select(Evidence).order_by(Evidence.id)))


def stored_files(world: TelegramWorld) -> list[Path]:
    return [p for p in Path(world.services.settings.evidence.path).rglob("*") if p.is_file()]


async def acknowledged(world: TelegramWorld):
    resident, leader = await reported_case(world)
    await leader.taps("接单")
    await world.drain()
    return resident, leader, only_case(world.services)


async def test_a_photo_captioned_with_the_reference_is_kept_on_the_case(telegram_world: TelegramWorld):
    world = telegram_world
    _resident, leader, case = await acknowledged(world)
    photo = jpeg(11)
    await leader.sends_photo(f"#{case.ref.lower()} 井盖已经盖好了", file_id="fix-1", content=photo)
    await world.drain()
    assert f"照片已存入工单 {case.ref}" in leader.last_message.text
    (row,) = evidence(world)
    kept = strip_jpeg_metadata(photo)
    assert (row.case_id, row.channel, row.note, row.sha256) == (case.id, "telegram", "井盖已经盖好了",
                                                                hashlib.sha256(kept).hexdigest())
    (path,) = stored_files(world)
    assert path.read_bytes() == kept and GPS_MARK not in kept
    assert [path for _token, path in world.fake.downloads] == ["photos/fix-1.jpg"]  # really downloaded
    with world.services.db.session() as session:
        event = session.exec(select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.kind == "evidence")).one()
    assert event.data["evidence_id"] == row.id and event.actor.startswith("staff:")


async def test_a_photo_sent_as_a_reply_to_the_page_is_kept_on_that_case(telegram_world: TelegramWorld):
    world = telegram_world
    _resident, leader, case = await acknowledged(world)
    page = leader.inbox[0]
    assert case.ref in page.text
    await leader.sends_photo("修好了", file_id="fix-2", content=jpeg(12), reply_to=page)
    await world.drain()
    assert f"照片已存入工单 {case.ref}" in leader.last_message.text
    (row,) = evidence(world)
    assert (row.case_id, row.note) == (case.id, "修好了")
    await leader.sends_photo(file_id="fix-2-again", content=jpeg(12), reply_to=page)
    await world.drain()
    assert "已在工单" in leader.last_message.text and len(evidence(world)) == 1  # the same bytes once


async def test_unknown_reference_no_reference_and_bad_files_store_nothing(telegram_world: TelegramWorld):
    world = telegram_world
    _resident, leader, case = await acknowledged(world)
    await leader.sends_photo("#ZZZZZZ 修好了", file_id="unknown-ref", content=jpeg(13))
    await world.drain()
    assert "找不到工单 ZZZZZZ" in leader.last_message.text
    await leader.sends_photo("修好了", file_id="no-ref", content=jpeg(14))
    await world.drain()
    assert "哪个工单" in leader.last_message.text
    limit = world.services.settings.evidence.max_bytes
    await leader.sends_photo(f"#{case.ref}", file_id="huge", content=jpeg(15, size=limit + 1))
    await world.drain()
    assert "照片太大" in leader.last_message.text
    await leader.sends_photo(f"#{case.ref}", file_id="gif", content=b"GIF89a\x01\x00\x01\x00")
    await world.drain()
    assert "只能保存 JPEG" in leader.last_message.text
    assert evidence(world) == [] and stored_files(world) == []
    downloaded = [path for _token, path in world.fake.downloads]
    assert "photos/unknown-ref.jpg" not in downloaded and "photos/huge.jpg" not in downloaded


async def test_someone_who_does_not_hold_the_case_cannot_attach(telegram_world: TelegramWorld):
    world = telegram_world
    _resident, _leader, case = await acknowledged(world)
    member = world.person(YE_BAOGUO, "保国")  # a member of the grid, neither paged nor its leader
    await member.sends_photo(f"#{case.ref}", file_id="not-his", content=jpeg(16))
    await world.drain()
    assert f"不是工单 {case.ref} 的处理人" in member.last_message.text
    assert evidence(world) == []


async def test_the_photos_of_an_album_follow_the_one_that_names_the_case(telegram_world: TelegramWorld):
    world = telegram_world
    _resident, leader, case = await acknowledged(world)
    await leader.sends_photo(f"#{case.ref} 修复前后", file_id="album-1", content=jpeg(17), album="g-1")
    await leader.sends_photo(file_id="album-2", content=jpeg(18), album="g-1")
    await leader.sends_photo(file_id="album-3", content=jpeg(19), album="g-2")  # another album, no caption
    await world.drain()
    rows = evidence(world)
    assert [r.case_id for r in rows] == [case.id, case.id]
    assert "哪个工单" in leader.last_message.text
