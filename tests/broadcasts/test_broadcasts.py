"""Broadcasts end to end: the console, the fake Twilio and the fake Telegram Bot API, a fake clock.

Demo city, grids ZY01-01-1 and ZY01-01-2 (中原 supervisor): registered residents 李秀英 (Telegram
8000000001), 赵德明 (SMS), 孙桂兰 (SMS), 周保国 (Telegram 8000000002); the roster adds 王桂芝
(+8617000020001, household 1-1-101, consented). 陈奶奶's household did not consent.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import col, select

from gridline.composition import build_services, install_channels
from gridline.domain.lifecycle import ForbiddenTransition
from gridline.kernel.work import Work, in_transaction
from gridline.routing import broadcasts as flow
from gridline.storage.models import AuditLog, Broadcast, Case, Message, Page
from tests.broadcasts.conftest import BroadcastWorld
from tests.twilio.conftest import LI_XIUYING, SMS_NUMBER, ZHAO_DEMING

SUN_GUILAN = "+8617000010003"
WANG_GUIZHI = "+8617000020001"
CHEN_NAINAI = "+8617000020003"
LI_TELEGRAM, ZHOU_TELEGRAM = 8000000001, 8000000002
WATER = {"title": "停水通知", "body": "桐柏路199号院因管道维修停水，请提前储水。",
         "starts_at": "2026-12-02T08:00", "ends_at": "2026-12-02T18:00", "grids": ["ZY01-01-1", "ZY01-01-2"]}


def broadcast_texts(world: BroadcastWorld, number: str) -> list[str]:
    return [m.body for m in world.twilio.messages_to(number) if "停水通知" in m.body]


def telegram_texts(world: BroadcastWorld, chat_id: int) -> list[str]:
    return [m.text or "" for m in world.telegram.sent_to(chat_id) if "停水通知" in (m.text or "")]


def audit_actions(world: BroadcastWorld) -> list[str]:
    with world.services.db.session() as session:
        rows = session.exec(select(AuditLog).where(col(AuditLog.action).like("broadcast.%")).order_by(col(AuditLog.id)))
        return [row.action for row in rows]


def messages_of(world: BroadcastWorld) -> list[Message]:
    with world.services.db.session() as session:
        query = select(Message).where(col(Message.broadcast_id).is_not(None)).order_by(col(Message.id))
        return list(session.exec(query))


@pytest.mark.parametrize("bworld", ["sqlite", "postgres"], indirect=True)
async def test_a_broadcast_to_two_grids_is_counted_and_a_reply_becomes_a_case(bworld: BroadcastWorld) -> None:
    world = bworld
    # 赵德明 texted STOP (退订) long ago: he is not messaged.
    await world.phone(ZHAO_DEMING).text("退订")
    await world.settle()
    world.twilio.sms_outcomes[SUN_GUILAN] = "undelivered"  # her phone is off: one delivery fails

    console = await world.console("sup-zhongyuan")
    response = await console.draft(**WATER)
    assert response.status_code == 303
    path = response.headers["location"]
    page = await console.client.get(path)
    assert "将发送给 4 位住户" in page.text and "时间：12-02 08:00 至 12-02 18:00" in page.text
    assert "短信 2" in page.text and "Telegram 2" in page.text and "约 1 分钟内发完" in page.text
    assert messages_of(world) == [], "a draft sends nothing"

    assert (await console.post(path + "/confirm")).status_code == 303
    await world.settle()
    for _ in range(3):
        await world.step(1)

    counts = await console.counts(path)
    assert counts["status"] == "done"
    assert (counts["recipients"], counts["queued"], counts["failed"]) == (4, 0, 1)
    assert counts["sent"] + counts["delivered"] == 3 and counts["delivered"] >= 1
    assert len(telegram_texts(world, LI_TELEGRAM)) == len(telegram_texts(world, ZHOU_TELEGRAM)) == 1
    assert len(broadcast_texts(world, WANG_GUIZHI)) == 1, "a consenting household member is texted"
    assert len(broadcast_texts(world, SUN_GUILAN)) == 1
    assert broadcast_texts(world, ZHAO_DEMING) == [] and broadcast_texts(world, CHEN_NAINAI) == []
    assert "【通知】停水通知" in telegram_texts(world, LI_TELEGRAM)[0]

    # 王桂芝 answers with a report: it goes through the conversation and becomes a case.
    await world.phone(WANG_GUIZHI).text("我家楼道灯坏了三天了，晚上看不见")
    await world.settle()
    with world.services.db.session() as session:
        cases = list(session.exec(select(Case)))
    assert len(cases) == 1
    counts = await console.counts(path)
    assert (counts["replied"], counts["reported"]) == (1, 1)
    assert audit_actions(world) == ["broadcast.draft", "broadcast.sending", "broadcast.done"]
    page = await console.client.get(path)
    assert 'data-count="failed">1<' in page.text


@pytest.mark.parametrize("bworld", ["sqlite", "postgres"], indirect=True)
async def test_sms_is_paced_and_a_page_is_not_delayed_behind_the_broadcast(bworld: BroadcastWorld) -> None:
    world = bworld
    world.services.settings.pacing.sms_per_second = 0.01  # one text every 100 seconds
    console = await world.console("sup-zhongyuan")
    path = (await console.draft(**WATER)).headers["location"]
    assert "约 5 分钟内发完" in (await console.client.get(path)).text  # 3 texts × 100 s
    assert (await console.post(path + "/confirm")).status_code == 303
    sms = [m for m in messages_of(world) if m.channel == "sms"]
    start = sms[0].next_attempt_at
    assert start is not None
    assert [m.next_attempt_at for m in sms] == [start + timedelta(seconds=100 * i) for i in range(len(sms))]
    assert {m.lane for m in sms} == {f"sms:{SMS_NUMBER}"}
    await world.settle()
    assert sum(len(broadcast_texts(world, n)) for n in (ZHAO_DEMING, SUN_GUILAN, WANG_GUIZHI)) == 1

    # A report now: the leader's page and the resident's reply go at once, not after the broadcast.
    await world.phone(LI_XIUYING).text("俺们楼从昨天就没水了咋弄")
    await world.settle()
    with world.services.db.session() as session:
        [case] = session.exec(select(Case)).all()
        pages = session.exec(select(Page).where(Page.case_id == case.id)).all()
        replies = session.exec(select(Message).where(Message.case_id == case.id, Message.direction == "out")).all()
    assert pages and all(p.status in ("sent", "delivered") for p in pages), "the page went at once"
    assert replies and all(m.kind == "reply" and m.status in ("sent", "delivered") for m in replies)
    assert sum(len(broadcast_texts(world, n)) for n in (ZHAO_DEMING, SUN_GUILAN, WANG_GUIZHI)) == 1, \
        "the broadcast is still at its own pace"


@pytest.mark.parametrize("bworld", ["sqlite", "postgres"], indirect=True)
async def test_a_restart_mid_broadcast_sends_nothing_twice_and_misses_nobody(bworld: BroadcastWorld) -> None:
    world = bworld
    console = await world.console("sup-lianhua")  # GX01-01-1 and GX01-01-2: eleven texts, one Telegram
    path = (await console.draft(**{**WATER, "grids": ["GX01-01"]})).headers["location"]
    assert (await console.post(path + "/confirm")).status_code == 303
    await world.settle()
    await world.step(1)
    sms = [m for m in messages_of(world) if m.channel == "sms"]
    assert len(sms) >= 10
    assert len([m for m in world.twilio.messages if "停水通知" in m.body]) == 2

    # The worker goes away for two minutes; a new one starts (the web process keeps serving webhooks).
    world.clock.advance(timedelta(minutes=2))
    old = world.services
    world.services = build_services(old.settings, world.clock)
    install_channels(world.services)  # the notifiers, as a worker's start-up wires them
    try:
        await world.settle()
        for _ in range(15):
            await world.step(1)
        texted = [m.to for m in world.twilio.messages if "停水通知" in m.body]
        assert len(texted) == len(set(texted)) == len(sms), "everyone once, nobody twice"
        counts = await console.counts(path)
        assert counts["status"] == "done" and counts["queued"] == 0
    finally:
        await world.services.aclose()
        world.services = old


async def test_cancel_stops_what_is_not_yet_sent(bworld: BroadcastWorld) -> None:
    world = bworld
    console = await world.console("sup-lianhua")
    path = (await console.draft(**{**WATER, "grids": ["GX01-01"]})).headers["location"]
    assert (await console.post(path + "/confirm")).status_code == 303
    await world.settle()
    await world.step(1)
    assert (await console.post(path + "/cancel")).status_code == 303
    sent_before = len([m for m in world.twilio.messages if "停水通知" in m.body])
    for _ in range(15):
        await world.step(1)
    assert len([m for m in world.twilio.messages if "停水通知" in m.body]) == sent_before
    counts = await console.counts(path)
    assert counts["status"] == "cancelled" and counts["cancelled"] >= 8 and counts["queued"] == 0
    assert audit_actions(world)[-1] == "broadcast.cancelled"
    # Cancelled again, or confirmed after: refused, with a message, nothing changes.
    again = await console.post(path + "/cancel")
    assert again.status_code == 303 and "error=finished" in again.headers["location"]


def _forbidden_moves(work: Work, broadcast_id: int) -> list[str]:
    broadcast = work.session.get(Broadcast, broadcast_id)
    assert broadcast is not None
    refused = []
    for wanted in (flow.BroadcastStatus.DONE, flow.BroadcastStatus.DRAFT):
        try:
            flow.transition(work, broadcast, wanted, "test")
        except ForbiddenTransition:
            refused.append(wanted.value)
    return refused


async def test_a_broadcast_moves_only_along_its_lifecycle(bworld: BroadcastWorld) -> None:
    world = bworld
    console = await world.console("sup-zhongyuan")
    path = (await console.draft(**WATER)).headers["location"]
    broadcast_id = int(path.rsplit("/", 1)[-1])
    assert await in_transaction(world.services, _forbidden_moves, broadcast_id) == ["done", "draft"]
    assert (await console.post(path + "/confirm")).status_code == 303
    again = await console.post(path + "/confirm")
    assert "error=not_draft" in again.headers["location"]
    assert len(messages_of(world)) == 5, "a second confirm queues nothing"
