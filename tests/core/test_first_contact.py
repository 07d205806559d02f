"""Two first messages of a new sender, processed at the same time, make one identity and keep both
messages (``storage.people.senders``: INSERT … ON CONFLICT DO NOTHING, then the winner's row), on SQLite and
PostgreSQL. Before, the second one failed on ``uq_identity`` with an ``IntegrityError`` (logged,
retried later)."""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

import pytest
from sqlmodel import select

from gridline.core.conversation import handle_inbound
from gridline.kernel.messages import InboundMessage
from gridline.kernel.services import Services
from gridline.storage.models import ChannelIdentity, Message
from gridline.storage.people import senders

NEWCOMER = "+8613800000077"  # not in the demo city


def _both_look_before_either_writes(monkeypatch: pytest.MonkeyPatch) -> threading.Barrier:
    """Each unit of work's first identity lookup waits until the other's has run too: both see no
    identity, so both go on to create it (the race, made certain)."""
    barrier = threading.Barrier(2, timeout=10)
    original = senders._identity_with_people
    waited: set[int] = set()

    def lookup(*args: Any) -> Any:
        found = original(*args)
        if found[0] is None and threading.get_ident() not in waited:
            waited.add(threading.get_ident())
            barrier.wait()
        return found

    monkeypatch.setattr(senders, "_identity_with_people", lookup)
    return barrier


def _message(channel: str, text: str, n: int) -> InboundMessage:
    if channel == "sms":
        return InboundMessage(channel="sms", external_id=NEWCOMER, text=text, provider_message_id=f"SM{n:032d}")
    return InboundMessage(channel="telegram", external_id="770077", bot_name="gridline", chat_id="770077",
                          display_name="新来的", text=text, provider_message_id=f"770077:{n}")


@pytest.mark.parametrize("channel", ["sms", "telegram"])
async def test_two_first_messages_at_once_make_one_identity_and_keep_both(
    scenario_services: Services, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, channel: str
):
    services = scenario_services
    barrier = _both_look_before_either_writes(monkeypatch)
    texts = ["楼道里的灯坏了好几天了", "晚上很黑，老人下楼不方便"]
    with caplog.at_level(logging.WARNING):
        outcomes = await asyncio.gather(
            *(handle_inbound(services, _message(channel, text, n), deliver_replies=False)
              for n, text in enumerate(texts)),
            return_exceptions=True,
        )
    assert not barrier.broken, "the two units of work did not run at the same time"
    assert not [o for o in outcomes if isinstance(o, BaseException)], outcomes
    assert "IntegrityError" not in caplog.text
    external_id = NEWCOMER if channel == "sms" else "770077"
    with services.db.session() as session:
        identities = session.exec(
            select(ChannelIdentity)
            .where(ChannelIdentity.channel == channel, ChannelIdentity.external_id == external_id)
        ).all()
        assert len(identities) == 1
        (identity,) = identities
        assert identity.resident_id is not None
        kept = session.exec(
            select(Message.text).where(Message.direction == "in", Message.identity_id == identity.id)
        ).all()
    assert sorted(kept) == sorted(texts)
