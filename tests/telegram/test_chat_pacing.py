"""Telegram's one message a second per chat, across every kind of message Gridline sends a chat.

Bulk messages (broadcasts, sweep questions, check-ins, visit reminders) to one chat are a second
apart whatever their kind, while different chats share the bot's rate (25 a second); a reply or a
page to the chat goes out at once — never behind bulk — and the chat's bulk keeps a second after it.
Through the fake Bot API with the fake clock."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import col, select

from gridline.i18n.phrases import as_written
from gridline.kernel.outbox import BulkMessage, queue_bulk, queue_message
from gridline.kernel.work import Work, in_transaction
from gridline.routing.visits import tell_staff
from gridline.settings import Settings
from gridline.storage.models import ChannelIdentity, Message, Staff
from gridline.storage.pacing import MessageKind
from tests.telegram.conftest import TelegramWorld
from tests.telegram.support import identity_of, prefer_telegram, staff
from tests.telegram.test_conversations import LIAO_ZHIQIANG, register_by_location

LIAO = "LDR-GX01-01-2"
SECOND = timedelta(seconds=1)


def _bulk_of_every_kind(work: Work, settings: Settings, identity_id: int, others: list[int]) -> list[int]:
    """A broadcast (to the chat and three others), a check-in, a visit reminder and a sweep question."""
    identity = work.session.get(ChannelIdentity, identity_id)
    assert identity is not None
    everyone = [identity, *(i for i in (work.session.get(ChannelIdentity, o) for o in others) if i is not None)]
    broadcast = queue_bulk(work, settings, [BulkMessage(i, as_written("停水通知"), "zh-CN") for i in everyone],
                           kind=MessageKind.BROADCAST)  # fmt: skip
    ids = [broadcast[0].message_id]
    for kind in (MessageKind.CHECKIN, MessageKind.VISIT):
        message = queue_message(work, channel="telegram", identity=identity, text=f"{kind}", lang="zh-CN",
                                kind=kind, settings=settings)  # fmt: skip
        ids.append(message.id or 0)
    [sweep] = queue_bulk(work, settings, [BulkMessage(identity, as_written("寒潮"), "zh-CN")], kind=MessageKind.SWEEP)
    return [*ids, sweep.message_id, *(q.message_id for q in broadcast[1:])]


def times_of(world: TelegramWorld, ids: list[int]) -> list[datetime]:
    with world.services.db.session() as session:
        rows = {m.id: m for m in session.exec(select(Message).where(col(Message.id).in_(ids)))}
    return [rows[i].next_attempt_at for i in ids]  # type: ignore[misc]


def _other_chats(work: Work, bot_name: str) -> list[int]:
    made = []
    for n in range(3):
        identity = ChannelIdentity(channel="telegram", external_id=f"81000009{n}", chat_id=f"81000009{n}",
                                   bot_name=bot_name, created_at=work.now)  # fmt: skip
        work.session.add(identity)
        work.session.flush()
        made.append(identity.id or 0)
    return made


async def test_bulk_of_every_kind_to_one_chat_leaves_a_second_apart_other_chats_at_the_bots_rate(
    telegram_world: TelegramWorld,
) -> None:
    world = telegram_world
    resident = await register_by_location(world)
    identity = identity_of(world.services, resident.user_id, world.bot_name)
    assert identity is not None
    others = await in_transaction(world.services, _other_chats, world.bot_name)
    world.clock.advance(SECOND)  # a second after the bot's replies to the registration
    before = len(resident.inbox)
    start = world.clock.now()

    ids = await in_transaction(
        world.services, _bulk_of_every_kind, world.services.settings, identity.id or 0, others
    )

    mine, theirs = times_of(world, ids[:4]), times_of(world, ids[4:])
    assert mine == [start + SECOND * i for i in range(4)], "one chat: a second apart, whatever the kind"
    assert max(theirs) - start < SECOND, "other chats: at the bot's 25 a second"
    for sent in range(1, 5):
        await world.drain()
        assert len(resident.inbox) - before == sent
        world.clock.advance(SECOND)
    assert [m.text for m in resident.inbox[before:]] == ["停水通知", "checkin", "visit", "寒潮"]


def _queue_to_leader(work: Work, settings: Settings, count: int) -> None:
    leader = work.session.exec(select(Staff).where(Staff.code == LIAO)).one()
    for n in range(count):
        assert tell_staff(work, leader, as_written(f"走访提醒 {n}"), kind=MessageKind.VISIT, settings=settings)


async def test_a_page_goes_out_at_once_behind_nothing_and_the_chats_bulk_keeps_a_second_after_it(
    telegram_world: TelegramWorld,
) -> None:
    world = telegram_world
    prefer_telegram(world.services, LIAO)
    leader = world.person(LIAO_ZHIQIANG, "志强")
    assert staff(world.services, LIAO).id
    await in_transaction(world.services, _queue_to_leader, world.services.settings, 3)
    await world.drain()
    assert [m.text for m in leader.inbox] == ["走访提醒 0"]

    resident = await register_by_location(world)  # same second: the page does not wait for the bulk
    await resident.says("楼道灯坏了三天了")
    await world.drain()
    assert leader.last_with_button("接单"), "the page is delivered at once"
    assert len(leader.inbox) == 2

    # The bulk due meanwhile waits a second after the page: then one a second.
    world.clock.advance(seconds=0.9)
    await world.drain()
    assert len(leader.inbox) == 2
    for arrived in (3, 4):
        world.clock.advance(SECOND)
        await world.drain()
        assert len(leader.inbox) == arrived
    assert {m.text for m in leader.inbox if m.text.startswith("走访提醒")} == {"走访提醒 0", "走访提醒 1", "走访提醒 2"}


async def test_a_reply_is_not_delayed_and_bulk_due_at_once_waits_a_second_after_it(
    telegram_world: TelegramWorld,
) -> None:
    world = telegram_world
    resident = await register_by_location(world)
    identity = identity_of(world.services, resident.user_id, world.bot_name)
    assert identity is not None
    await resident.says("/help")
    await world.drain()
    replied = len(resident.inbox)

    def broadcast(work: Work, settings: Settings) -> int:
        found = work.session.get(ChannelIdentity, identity.id)
        assert found is not None
        return queue_bulk(work, settings, [BulkMessage(found, as_written("停电通知"), "zh-CN")],
                          kind=MessageKind.BROADCAST)[0].message_id  # fmt: skip

    message_id = await in_transaction(world.services, broadcast, world.services.settings)
    await world.drain()
    assert len(resident.inbox) == replied, "due now, but the reply left less than a second ago"
    [when] = times_of(world, [message_id])
    assert when >= world.clock.now() + SECOND * 0.5
    world.clock.advance(SECOND)
    await world.drain()
    assert resident.inbox[-1].text == "停电通知"
