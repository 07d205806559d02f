"""Bulk messages are paced per sender, through the real Twilio client and the fake Twilio.

Times are the fake clock's: each bulk message gets a send time in its lane when it is queued, and
goes out only when the clock reaches it. Replies and pages never wait behind the bulk queue.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

import pytest
from sqlmodel import col, select

from gridline.composition import build_services, install_channels
from gridline.kernel.outbox import queue_message
from gridline.kernel.send_claims import INTERRUPTED, POSSIBLY_TWICE
from gridline.kernel.work import Work, in_transaction
from gridline.routing.message_delivery import deliver_message
from gridline.storage.models import AuditLog, ChannelIdentity, Message, Resident
from gridline.storage.pacing import MessageKind
from tests.conftest import BACKENDS
from tests.twilio.conftest import LI_XIUYING, LONG_XIAOYAN, SMS_NUMBER, TwilioWorld

NUMBERS = [f"+861700009{n:04d}" for n in range(12)]


def _queue_bulk(work: Work, numbers: list[str], kind: str, settings: object | None) -> list[int]:
    ids = []
    for number in numbers:
        resident = Resident(name="住户", phone=number, grid_code="ZY01-01-1", created_at=work.now)
        work.session.add(resident)
        work.session.flush()
        identity = ChannelIdentity(channel="sms", external_id=number, resident_id=resident.id, created_at=work.now)
        work.session.add(identity)
        work.session.flush()
        message = queue_message(work, channel="sms", identity=identity, text="sweep question", lang="zh-CN",
                                resident_id=resident.id, kind=kind, settings=settings)  # type: ignore[arg-type]
        ids.append(message.id or 0)
    return ids


async def queue_bulk(world: TwilioWorld, numbers: list[str], *, kind: str = MessageKind.SWEEP,
                     with_settings: bool = True) -> list[int]:
    settings = world.services.settings if with_settings else None
    return await in_transaction(world.services, _queue_bulk, numbers, kind, settings)


def outbound(world: TwilioWorld, ids: list[int]) -> list[Message]:
    with world.services.db.session() as session:
        return list(session.exec(select(Message).where(col(Message.id).in_(ids)).order_by(col(Message.id))))


def texted(world: TwilioWorld, numbers: list[str]) -> list[str]:
    """The bulk numbers the fake Twilio was asked to text, in the order it was asked."""
    wanted = set(numbers)
    return [m.to for m in world.fake.messages if m.to in wanted]


async def step(world: TwilioWorld, seconds: float) -> None:
    world.clock.advance(timedelta(seconds=seconds))
    await world.settle()


@pytest.mark.parametrize("world", BACKENDS, indirect=True)
async def test_bulk_messages_leave_one_a_second_from_the_sms_number(world: TwilioWorld) -> None:
    numbers = NUMBERS[:5]
    start = world.clock.now()
    ids = await queue_bulk(world, numbers)
    times = [m.next_attempt_at for m in outbound(world, ids)]
    assert times == [start + timedelta(seconds=i) for i in range(5)]
    assert {m.lane for m in outbound(world, ids)} == {f"sms:{SMS_NUMBER}"}

    await world.settle()
    assert texted(world, numbers) == numbers[:1]
    for sent in range(2, 6):
        await step(world, 1)
        assert texted(world, numbers) == numbers[:sent], "one more each second, in the order queued"
    assert [m.status for m in outbound(world, ids)] == ["delivered"] * 5


async def test_the_rate_is_configurable_and_lanes_continue_where_they_are(make_services, clock) -> None:
    services = await make_services(pacing={"sms_per_second": 4.0}, twilio={"sms_number": SMS_NUMBER})

    start = clock.now()
    first = await in_transaction(services, _queue_bulk, NUMBERS[:3], MessageKind.CHECKIN, services.settings)
    second = await in_transaction(services, _queue_bulk, NUMBERS[3:5], MessageKind.BROADCAST, services.settings)
    with services.db.session() as session:
        rows = session.exec(select(Message).where(col(Message.id).in_(first + second)).order_by(col(Message.id)))
        times = [m.next_attempt_at for m in rows]
    # A second batch queues behind the first in the same lane, a quarter of a second apart.
    assert times == [start + timedelta(seconds=0.25 * i) for i in range(5)]


@pytest.mark.parametrize("world", ["sqlite", "postgres"], indirect=True)
async def test_a_reply_and_a_page_do_not_wait_behind_a_backlog(world: TwilioWorld) -> None:
    world.prefer_channels("LDR-ZY01-01-1", "sms", "voice", "web")
    numbers = NUMBERS[:12]
    ids = await queue_bulk(world, numbers, kind=MessageKind.BROADCAST)
    last = outbound(world, ids)[-1].next_attempt_at
    assert last == world.clock.now() + timedelta(seconds=11)

    resident, leader = world.phone(LI_XIUYING), world.phone(LONG_XIAOYAN)
    await resident.text("俺们楼从昨天就没水了咋弄")
    await world.settle()
    leader.expect_sms("回复")  # the page, now
    resident.expect_sms()  # the reply with the case number, now
    assert texted(world, numbers) == numbers[:1], "the broadcast is still at its own pace"
    with world.services.db.session() as session:
        reply = session.exec(
            select(Message).where(Message.direction == "out", col(Message.id).not_in(ids)).order_by(col(Message.id))
        ).first()
        assert reply is not None and reply.kind == MessageKind.REPLY and reply.lane is None


@pytest.mark.parametrize("world", ["sqlite", "postgres"], indirect=True)
async def test_a_bulk_message_queued_without_settings_gets_its_time_when_first_claimed(world: TwilioWorld) -> None:
    numbers = NUMBERS[:3]
    start = world.clock.now()
    ids = await queue_bulk(world, numbers, with_settings=False)
    assert [m.next_attempt_at for m in outbound(world, ids)] == [None] * 3
    await world.settle()
    assert texted(world, numbers) == numbers[:1]
    assert [m.next_attempt_at for m in outbound(world, ids)] == [start + timedelta(seconds=i) for i in range(3)]
    await step(world, 1)
    await step(world, 1)
    assert texted(world, numbers) == numbers


@pytest.mark.parametrize("world", ["sqlite", "postgres"], indirect=True)
async def test_a_restart_sends_nothing_twice_misses_nobody_and_sends_no_burst(world: TwilioWorld) -> None:
    numbers = NUMBERS[:8]
    ids = await queue_bulk(world, numbers)
    await world.settle()
    await step(world, 1)
    await step(world, 1)
    assert texted(world, numbers) == numbers[:3]

    # The worker stops (its in-process queue is gone) and a new one starts two minutes later (the old
    # services keep serving the webhooks, as the web process would).
    world.clock.advance(timedelta(minutes=2))
    old = world.services
    world.services = build_services(old.settings, world.clock)
    install_channels(world.services)  # the notifiers, as a worker's start-up wires them
    try:
        await world.settle()
        assert texted(world, numbers) == numbers[:4], "the backlog is spread again, not sent in one burst"
        for _ in range(8):
            await step(world, 1)
        sent = texted(world, numbers)
        assert sorted(sent) == sorted(numbers) and len(sent) == len(set(sent)), "everyone once, nobody twice"
        assert [m.status for m in outbound(world, ids)] == ["delivered"] * 8
    finally:
        await world.services.aclose()
        world.services = old


@pytest.mark.parametrize("world", ["sqlite", "postgres"], indirect=True)
async def test_two_processes_never_get_the_same_send_time(world: TwilioWorld) -> None:
    other = build_services(world.services.settings, world.clock)
    try:
        start = world.clock.now()
        a, b = await asyncio.gather(
            in_transaction(world.services, _queue_bulk, NUMBERS[:3], MessageKind.SWEEP, world.services.settings),
            in_transaction(other, _queue_bulk, NUMBERS[3:6], MessageKind.SWEEP, other.settings),
        )
        times = sorted(m.next_attempt_at for m in outbound(world, a + b))  # type: ignore[type-var]
        assert times == [start + timedelta(seconds=i) for i in range(6)]
    finally:
        await other.aclose()



@pytest.mark.parametrize("twilio_can_be_asked", [True, False], ids=["twilio-asked", "twilio-cannot-be-asked"])
async def test_a_bulk_send_cut_off_mid_call_is_not_sent_twice(world: TwilioWorld, twilio_can_be_asked: bool) -> None:
    number = NUMBERS[0]
    [message_id] = await queue_bulk(world, [number], kind=MessageKind.BROADCAST)
    world.fake.answer_delay_seconds = 3.0  # Twilio keeps the text at once; its answer comes late
    world.fake.lookups_available = twilio_can_be_asked
    send = asyncio.create_task(deliver_message(world.services, message_id))
    for _ in range(200):
        if world.fake.messages_to(number):
            break
        await asyncio.sleep(0.05)
    send.cancel()  # the worker dies mid-call: it never learns that Twilio has the text
    with contextlib.suppress(asyncio.CancelledError):
        await send
    world.fake.answer_delay_seconds = 0.0
    [stuck] = outbound(world, [message_id])
    # A cancelled send gives its claim back at once (a SIGKILLed one after the lease), marked interrupted.
    assert (stuck.status, stuck.error) == ("queued", INTERRUPTED)

    await step(world, 30)  # past the send lease: the reconciler hands it to the next worker
    [done] = outbound(world, [message_id])
    assert done.status in ("sent", "delivered")
    with world.services.db.session() as session:
        flagged = session.exec(select(AuditLog).where(AuditLog.action == POSSIBLY_TWICE)).all()
    if twilio_can_be_asked:
        assert len(world.fake.messages_to(number)) == 1, "Twilio had the text: not sent again"
        assert done.provider_message_id == world.fake.messages_to(number)[0].sid
        assert flagged == []
    else:
        assert len(world.fake.messages_to(number)) == 2, "Gridline could not know, so it sent again"
        assert [(a.target_kind, a.target_id) for a in flagged] == [("message", str(message_id))]
