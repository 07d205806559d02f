"""Retention: after N days residents' words are removed, the statistics stay the same."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import httpx
import pytest
from sqlmodel import select

from gridline.app import create_app
from gridline.engine.retention import purge_old_text
from gridline.storage.models import AuditLog, Case, InboundEvent, Message
from tests.console.conftest import add_account, login
from tests.console.factories import CaseFactory


async def dashboard_figures(client) -> list[list[str]]:
    body = (await client.get("/console/dashboard.csv", params={"days": "90"})).content
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


@pytest.fixture
async def services_30_days(make_services):
    services = await make_services(console={"retention_days": 30})
    add_account(services, "admin", "admin")
    return services


async def test_purging_removes_old_texts_but_keeps_statistics(services_30_days):
    services = services_30_days
    factory = CaseFactory(services)
    now = factory.now
    old = factory.case(text="俺家停水了，电话13912345678", created=now - timedelta(days=40), staff="LDR-GX01-01-1",
                       ack_after=timedelta(minutes=5), resolve_after=timedelta(hours=2), rating=4, status="closed")
    old_open = factory.case(text="老问题一直没解决", created=now - timedelta(days=45))
    recent = factory.case(text="昨天的事", created=now - timedelta(days=1))
    with services.db.session() as session:
        session.add(InboundEvent(provider="telegram:residents", event_key="1", payload={"text": "俺家停水了"},
                                 received_at=now - timedelta(days=40), status="processed"))
    admin = httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(services, run_jobs=False)),
                              base_url="http://console.test")
    await login(admin, "admin")
    before = await dashboard_figures(admin)

    purged = await purge_old_text(services)
    assert purged == 2  # the old closed case's message and reply; the open case keeps its texts

    with services.db.session() as session:
        old_messages = session.exec(select(Message).where(Message.case_id == old.id)).all()
        assert all(m.text is None and m.text_purged for m in old_messages)
        assert all(m.text_params is None for m in old_messages)  # the facts the reply was worded from
        inbound = next(m for m in old_messages if m.direction == "in")
        assert inbound.intent == "water_supply" and inbound.confidence == 0.92
        assert "text" not in (inbound.nlu or {})
        assert session.get(Case, old.id).summary == ""
        assert session.get(Case, old_open.id).summary == "老问题一直没解决"
        assert all(m.text for m in session.exec(select(Message).where(Message.case_id == recent.id)).all())
        assert session.exec(select(InboundEvent)).one().payload == {"purged": True}
        assert session.exec(select(AuditLog).where(AuditLog.action == "retention.purge_text")).one()

    assert await dashboard_figures(admin) == before
    page = (await admin.get(f"/console/cases/{old.id}")).text
    assert "原文已清除" in page and "13912345678" not in page
    assert await purge_old_text(services) == 0  # nothing left to do
    await admin.aclose()


async def test_no_retention_period_keeps_everything(console_services):
    factory = CaseFactory(console_services)
    factory.case(created=factory.now - timedelta(days=4000), status="closed")
    assert console_services.settings.console.retention_days == 0
    assert await purge_old_text(console_services) == 0


async def test_every_copy_in_the_inventory_is_purged(services_30_days):
    """Voicemail URLs, supervisor notes, search terms, Telegram display names, never-processed payloads."""
    from gridline.storage.models import ChannelIdentity, Resident

    services = services_30_days
    factory = CaseFactory(services)
    now = factory.now
    long_ago = now - timedelta(days=40)
    old = factory.case(text="俺家停水了", created=long_ago, handle="@wangfang_1960", status="closed", grid=None)
    with services.db.session() as session:
        case = session.get(Case, old.id)
        identity = session.exec(select(ChannelIdentity).where(ChannelIdentity.resident_id == case.resident_id)).one()
        resident = session.get(Resident, case.resident_id)
        resident.phone, resident.name = None, "王芳"  # came from Telegram, never registered
        message = session.exec(select(Message).where(Message.case_id == old.id, Message.direction == "in")).one()
        message.media = [{"kind": "voicemail", "url": "https://api.twilio.com/Recordings/RE1"}]
        reply = session.exec(select(Message).where(Message.case_id == old.id, Message.direction == "out")).first()
        assert reply is not None
        reply.text_key, reply.text_params = "case.leader_says", {"name": "龙小燕", "text": "我十分钟后到王芳家"}
        reply.options = [{"label": "正常 3-2-501", "data": "visit:1:ok",
                          "phrase": {"key": "visits.button.ok", "params": {"room": "3-2-501"}}}]
        reply_id = reply.id
        from gridline.storage.models import CaseEvent

        session.add(CaseEvent(case_id=old.id, at=long_ago, kind="note", actor="console:sup",
                              data={"text": "住户王芳说邻居吵", "name": "主管"}))
        session.add(CaseEvent(case_id=old.id, at=long_ago, kind="reported_again", actor="system",
                              data={"summary": "又停水了", "count": 2}))
        case.explanation = [{"decision": "grid", "grid": None, "reason": "address matched: 桐柏路199号院"}]
        for status in ("failed", "received", "rescued"):
            session.add(InboundEvent(provider="telegram:city", event_key=f"k-{status}", status=status,
                                     payload={"message": {"text": "俺家停水了"}}, error="DataError: 俺家停水了",
                                     received_at=long_ago))
        session.add(AuditLog(at=long_ago, actor="console:sup", action="console.export_cases", target_kind="cases",
                             detail={"filters": {"q": "王芳"}, "rows": 3}))
        identity_id = identity.id
    await purge_old_text(services)
    with services.db.session() as session:
        from gridline.storage.models import CaseEvent

        assert session.get(ChannelIdentity, identity_id).display is None
        assert session.get(Case, old.id).explanation == [{"decision": "grid", "grid": None}]
        message = session.exec(select(Message).where(Message.case_id == old.id, Message.direction == "in")).one()
        assert message.media == []
        reply = session.get(Message, reply_id)
        assert reply.text_params is None and reply.options == [{"data": "visit:1:ok"}]
        assert reply.text_key == "case.leader_says"  # which reply it was stays, not what it said
        resident = session.get(Resident, session.get(Case, old.id).resident_id)
        assert resident.name is None
        events = session.exec(select(CaseEvent).where(CaseEvent.case_id == old.id)).all()
        assert all(k not in e.data for e in events for k in ("text", "summary", "name"))
        assert {e.kind for e in events} >= {"note", "reported_again"}  # the rows and their kinds stay
        for inbound in session.exec(select(InboundEvent)).all():
            assert inbound.payload == {"purged": True} and inbound.error is None
        export = session.exec(select(AuditLog).where(AuditLog.action == "console.export_cases")).one()
        assert export.detail == {"rows": 3}


def test_the_inventory_in_the_docs_is_the_one_the_purge_uses():
    from gridline.engine.retention import INVENTORY
    from tests.conftest import ROOT

    docs = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    for column, what, how in INVENTORY:
        assert f"| `{column}` | {what} | {how} |" in docs, column
