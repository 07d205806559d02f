"""The case list's filters, search and pagination, and the case page's timeline."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlmodel import select

from gridline.console.filters import PAGE_SIZE, like_pattern
from gridline.console.http import LANG_COOKIE
from gridline.storage.models import CaseEvent, Message, Page, Staff
from tests.console.factories import CaseFactory


def refs_in(html: str) -> list[str]:
    return re.findall(r'class="ref">(T\d+)<', html)


async def listed(client, **params: str) -> set[str]:
    response = await client.get("/console/cases", params=params)
    assert response.status_code == 200
    return set(refs_in(response.text))


async def test_filtering_by_a_grid_at_any_level_includes_the_grids_below(client_for, factory: CaseFactory):
    a = factory.case(grid="GX01-01-1")
    b = factory.case(grid="GX01-01-2")
    c = factory.case(grid="GX01-02-1")
    d = factory.case(grid="GX02-01-1")
    admin = await client_for("admin")
    assert await listed(admin, grid="GX01-01-1") == {a.ref}
    assert await listed(admin, grid="GX01-01") == {a.ref, b.ref}
    assert await listed(admin, grid="GX01") == {a.ref, b.ref, c.ref}
    assert await listed(admin, grid="GX02") == {d.ref}


async def test_filters_by_category_priority_status_and_channel(client_for, factory: CaseFactory):
    water = factory.case(category="water_supply", priority="urgent", channel="sms")
    noise = factory.case(category="noise", priority="normal", channel="voice", staff="LDR-GX01-01-1",
                         ack_after=timedelta(minutes=3))
    admin = await client_for("admin")
    assert await listed(admin, category="noise") == {noise.ref}
    assert await listed(admin, priority="urgent") == {water.ref}
    assert await listed(admin, status="acknowledged") == {noise.ref}
    assert await listed(admin, channel="sms") == {water.ref}
    assert await listed(admin, channel="sms", category="noise") == set()


async def test_the_date_range_is_in_the_configured_time_zone(client_for, factory: CaseFactory):
    # 2026-11-24 23:30 in Shanghai is 15:30 UTC: it belongs to the 24th, not the 25th.
    late = factory.case(created=datetime(2026, 11, 24, 15, 30, tzinfo=UTC))
    early = factory.case(created=datetime(2026, 11, 24, 16, 30, tzinfo=UTC))  # 00:30 on the 25th
    admin = await client_for("admin")
    assert await listed(admin, **{"from": "2026-11-24", "to": "2026-11-24"}) == {late.ref}
    assert await listed(admin, **{"from": "2026-11-25"}) == {early.ref}


async def test_unacknowledged_and_sla_breached(client_for, factory: CaseFactory):
    now = factory.now
    waiting_long = factory.case(created=now - timedelta(hours=2))  # ack due after 1 h: breached
    waiting_short = factory.case(created=now - timedelta(minutes=10))
    acked_late = factory.case(created=now - timedelta(hours=5), staff="LDR-GX01-01-1",
                              ack_after=timedelta(minutes=90))
    acked_fast = factory.case(created=now - timedelta(hours=5), staff="LDR-GX01-01-1",
                              ack_after=timedelta(minutes=5))
    admin = await client_for("admin")
    assert await listed(admin, unacked="1") == {waiting_long.ref, waiting_short.ref}
    assert await listed(admin, sla="breached") == {waiting_long.ref, acked_late.ref}
    assert await listed(admin, sla="ack") == {waiting_long.ref, acked_late.ref}
    assert await listed(admin, sla="met") == {waiting_short.ref, acked_fast.ref}


async def test_low_confidence_and_rating_filters(client_for, factory: CaseFactory):
    unsure = factory.case(confidence=0.31)
    happy = factory.case(rating=5, staff="LDR-GX01-01-1", ack_after=timedelta(minutes=2),
                         resolve_after=timedelta(hours=1))
    unhappy = factory.case(rating=1, staff="LDR-GX01-01-1", ack_after=timedelta(minutes=2),
                           resolve_after=timedelta(hours=1))
    admin = await client_for("admin")
    assert await listed(admin, lowconf="1") == {unsure.ref}
    assert await listed(admin, rating="5") == {happy.ref}
    assert await listed(admin, rating="low") == {unhappy.ref}
    assert await listed(admin, rating="rated") == {happy.ref, unhappy.ref}
    assert await listed(admin, rating="none") == {unsure.ref}


async def test_search_finds_chinese_words_inside_any_message(client_for, factory: CaseFactory):
    case = factory.case(text="俺家停水了")
    factory.message(case, "二楼厨房的水龙头一滴水都没有，中不中来看看")
    other = factory.case(text="楼上太吵了", category="noise")
    admin = await client_for("admin")
    assert await listed(admin, q="水龙头") == {case.ref}
    assert await listed(admin, q="中不中") == {case.ref}
    assert await listed(admin, q="太吵") == {other.ref}
    assert await listed(admin, q=case.ref.lower()) == {case.ref}


async def test_search_takes_like_wildcards_literally(client_for, factory: CaseFactory):
    percent = factory.case(text="水费涨了50%")
    factory.case(text="水费没涨")
    admin = await client_for("admin")
    assert await listed(admin, q="50%") == {percent.ref}
    assert await listed(admin, q="%") == {percent.ref}
    assert like_pattern("a_b%") == "%a\\_b\\%%"


async def test_the_list_is_paginated_newest_first(client_for, factory: CaseFactory):
    now = factory.now
    cases = [factory.case(created=now - timedelta(minutes=i), reply=None) for i in range(PAGE_SIZE + 5)]
    admin = await client_for("admin")
    first = await admin.get("/console/cases")
    second = await admin.get("/console/cases", params={"page": "2"})
    assert refs_in(first.text) == [c.ref for c in cases[:PAGE_SIZE]]
    assert refs_in(second.text) == [c.ref for c in cases[PAGE_SIZE:]]
    assert "共 55 条" in first.text and "第 1 / 2 页" in first.text


async def test_the_case_page_shows_the_whole_story(client_for, factory: CaseFactory, console_services):
    case = factory.case(
        text="颍河路56号院2号楼停电了",
        category="power_supply",
        staff="LDR-GX01-01-1",
        paged=["MBR-GX01-01-1", "LDR-GX01-01-1"],
        ack_after=timedelta(minutes=6),
        explanation=[
            {"decision": "grid", "grid_code": "GX01-01-1", "reason": "address 颍河路56号院 in the directory"},
            {"decision": "person", "staff": "LDR-GX01-01-1", "reason": "on duty Thursday 08:00–20:00"},
        ],
    )
    admin = await client_for("admin")
    html = (await admin.get(f"/console/cases/{case.id}")).text
    assert "颍河路56号院2号楼停电了" in html
    assert "已受理，网格长会尽快联系您。" in html  # the reply sent to the resident
    assert "识别意图" in html and "供电" in html and "92%" in html  # intent and confidence
    assert "<meter" in html  # the ranking
    assert "address 颍河路56号院 in the directory" in html and "on duty Thursday 08:00–20:00" in html
    assert html.count("通知 ") >= 2 and "张磊" in html and "程振华" in html  # both pages, with names
    assert "程振华 已响应" in html  # the acknowledgement
    assert "6 分钟" in html  # time to acknowledge
    assert "工单创建" in html


async def test_merged_duplicates_show_in_the_surviving_case(client_for, factory: CaseFactory, console_services):
    keep = factory.case(text="红松嘉园停水")
    duplicate = factory.case(text="红松嘉园5号楼也停水了")
    from gridline.storage.models import Case

    with console_services.db.session() as session:
        row = session.get(Case, duplicate.id)
        row.duplicate_of_id = keep.id
        session.add(row)
    admin = await client_for("admin")
    html = (await admin.get(f"/console/cases/{keep.id}")).text
    assert "红松嘉园5号楼也停水了" in html and f"来自 {duplicate.ref}" in html
    assert f'href="/console/cases/{duplicate.id}">{duplicate.ref}' in html


async def test_a_provider_error_reads_in_the_supervisors_language_with_the_raw_error_kept(
    client_for, factory: CaseFactory, console_services
):
    """「twilio 400 21610 Attempt to send to unsubscribed recipient」 is the provider's English: the
    case page says what it means (对方已退订短信) and keeps the raw error in the cell's title."""
    case = factory.case(text="颍河路56号院2号楼停电了", category="power_supply",
                        paged=["MBR-GX01-01-1", "LDR-GX01-01-1"])  # fmt: skip
    raw = {"MBR-GX01-01-1": "twilio 400 21610 Attempt to send to unsubscribed recipient",
           "LDR-GX01-01-1": "Forbidden: bot was blocked by the user"}  # fmt: skip
    with console_services.db.session() as session:
        for page in session.exec(select(Page).where(Page.case_id == case.id)):
            page.status, page.error = "failed", raw[session.get(Staff, page.staff_id).code]  # type: ignore[union-attr]
            session.add(page)
        session.add(CaseEvent(case_id=case.id, at=factory.now, kind="follow_up_call", actor="sup-lianhua",
                              data={"call_status": "failed", "error": "call no-answer"}))  # fmt: skip
        session.commit()
    admin = await client_for("admin")
    html = (await admin.get(f"/console/cases/{case.id}")).text
    shown = re.sub(r'title="[^"]*"', "", html)
    assert "对方已退订短信" in shown and "21610" in shown  # the explanation, and the provider's code
    assert "对方已屏蔽" in shown
    assert "无人接听" in shown
    for words in (*raw.values(), "call no-answer"):
        assert words not in shown, words  # only in a title
    assert f'title="{raw["MBR-GX01-01-1"]}"' in html

    admin.cookies.set(LANG_COOKIE, "en")
    english = re.sub(r'title="[^"]*"', "", (await admin.get(f"/console/cases/{case.id}")).text)
    assert "opted out" in english and "blocked the bot" in english


async def test_a_reply_the_provider_refused_shows_why_in_the_conversation(
    client_for, factory: CaseFactory, console_services
):
    """An outgoing message to the resident that failed at the provider reads 发送失败 and what the
    error means (对方已退订短信…（21610）) in the conversation view, the raw English in its title."""
    case = factory.case(text="颍河路56号院2号楼停电了", category="power_supply", channel="sms")
    raw = "twilio 400 21610 Attempt to send to unsubscribed recipient"
    with console_services.db.session() as session:
        first = session.exec(select(Message).where(Message.case_id == case.id, Message.direction == "in")).one()
        session.add(Message(conversation_id=first.conversation_id, case_id=case.id, direction="out", channel="sms",
                            sender_kind="system", resident_id=first.resident_id, identity_id=first.identity_id,
                            text="您反映的问题已受理", created_at=factory.now, status="failed", error=raw))  # fmt: skip
        # A message that went out in the end keeps a note, not an error to explain.
        session.add(Message(conversation_id=first.conversation_id, case_id=case.id, direction="out", channel="sms",
                            sender_kind="system", resident_id=first.resident_id, identity_id=first.identity_id,
                            text="网格长已接单", created_at=factory.now, status="sent",
                            error="no notifier: kept in the conversation log only"))  # fmt: skip
        session.commit()
        conversation_id = first.conversation_id
    admin = await client_for("admin")
    html = (await admin.get(f"/console/conversations/{conversation_id}")).text
    shown = re.sub(r'title="[^"]*"', "", html)
    assert "发送失败" in shown and "对方已退订短信" in shown and "21610" in shown
    assert raw not in shown and f'title="{raw}"' in html
    assert html.count('class="muted small delivery-error"') == 1

    admin.cookies.set(LANG_COOKIE, "en")
    english = re.sub(r'title="[^"]*"', "", (await admin.get(f"/console/conversations/{conversation_id}")).text)
    assert "opted out" in english and raw not in english
