"""A conversation's state lives on its row: losing Redis (flushed, or unreachable from the start)
loses no question Gridline asked, and the per-sender rate limit still holds in the process."""

from __future__ import annotations

import pytest
from sqlmodel import select

from gridline.core.conversation import handle_inbound
from gridline.kernel.messages import InboundMessage
from gridline.kernel.services import Services
from gridline.storage.events import build_event_bus
from gridline.storage.models import Case, Message
from gridline.storage.redis_link import RedisLink
from gridline.storage.state import build_state_store
from tests.conftest import forget_redis
from tests.core.support import record_all_channels

STRANGER = "+8613800000000"  # not in the demo city: the report waits in triage for an address


def sms(text: str, sender: str = STRANGER) -> InboundMessage:
    return InboundMessage(channel="sms", external_id=sender, text=text)


def case_by_ref(services: Services, ref: str | None) -> Case:
    with services.db.session() as session:
        return session.exec(select(Case).where(Case.ref == ref)).one()


async def use_redis_at(services: Services, url: str) -> None:
    """Point the services' Redis-backed parts (state, live events) at ``url``."""
    await services.events.close()
    link = RedisLink(url, timeout_seconds=0.5)
    services.redis = link
    services.state = build_state_store(services.settings, services.clock, link)
    services.events = build_event_bus(services.settings, link)


async def report_then_address(services: Services, drain, between) -> None:  # type: ignore[no-untyped-def]
    record_all_channels(services)
    outcome = await handle_inbound(services, sms("楼道里的灯坏了好几天了晚上很黑"))
    assert outcome.created_case and case_by_ref(services, outcome.case_ref).grid_code is None
    await drain(services)
    await between()
    follow_up = await handle_inbound(services, sms("颍河路56号院"))
    await drain(services)
    assert follow_up.case_ref == outcome.case_ref, "the address answers the question asked before Redis was lost"
    assert case_by_ref(services, outcome.case_ref).grid_code == "ZY01-01-2"


@pytest.mark.redis
@pytest.mark.postgres
async def test_a_flushed_redis_forgets_no_question(make_services, drain):
    services = await make_services("postgres+redis")

    async def flush() -> None:
        forget_redis(services)

    await report_then_address(services, drain, flush)


@pytest.mark.postgres
async def test_redis_unreachable_from_the_start_still_carries_the_conversation(make_services, drain, dead_redis_url):
    services = await make_services("postgres")
    await use_redis_at(services, dead_redis_url)

    async def nothing() -> None:
        return None

    await report_then_address(services, drain, nothing)
    assert services.redis is not None and not services.redis.available


async def test_the_rate_limit_holds_in_the_process_while_redis_is_unreachable(make_services, dead_redis_url):
    services = await make_services("sqlite")
    await use_redis_at(services, dead_redis_url)
    limit = services.settings.cases.max_messages_per_minute
    outcomes = [
        await handle_inbound(services, sms(f"第{i}条：楼道里的灯坏了", sender="+8613800000001"))
        for i in range(limit + 2)
    ]
    assert all(o.replies for o in outcomes[:limit]), "up to the limit every message is answered"
    assert [o.replies for o in outcomes[limit:]] == [[], []], "past it, messages are stored, not answered"
    with services.db.session() as session:
        stored = session.exec(select(Message.text).where(Message.direction == "in")).all()
    assert len([t for t in stored if t and t.startswith("第")]) == limit + 2, "every message is kept"


@pytest.mark.redis
@pytest.mark.postgres
async def test_a_stale_copy_in_redis_is_overruled_by_the_row(make_services, drain):
    from gridline.core.conversation import _state_key

    services = await make_services("postgres+redis")
    record_all_channels(services)
    li = sms("楼道里有人充电瓶车，太危险了", sender="+8617000010001")  # registered: 桐柏路199号院
    # Redis says Gridline asked her for an address (a write the row never got): the row says nothing.
    await services.state.set(_state_key(li), {"awaiting": "address"}, 600)
    outcome = await handle_inbound(services, li)
    assert outcome.created_case, "her report is understood as a report, not as an address"
    assert case_by_ref(services, outcome.case_ref).grid_code == "ZY01-01-1"
    assert await services.state.get(_state_key(li)) != {"awaiting": "address"}, "the copy follows the row again"
