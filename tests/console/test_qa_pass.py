"""Exploratory QA pass of the console (2026-12-02): what a supervisor, a leader and an operator run
into — paging with filters, error pages for URLs that do not exist, search with wildcards."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

from tests.console.conftest import ClientFor, csrf_of
from tests.console.factories import CaseFactory


def refs_in(html: str) -> list[str]:
    return re.findall(r'class="ref"[^>]*>(T\d{5})<', html)


async def test_paging_keeps_the_filters_and_every_case_is_on_exactly_one_page(
        client_for: ClientFor, factory: CaseFactory) -> None:
    for i in range(120):
        factory.case(grid="GX01-01-1" if i % 2 else "GX02-01-1", category="noise" if i % 3 else "water_supply",
                     created=factory.now - timedelta(minutes=i))
    admin = await client_for("admin")
    first = (await admin.get("/console/cases", params={"grid": "GX01-01", "category": "noise"})).text
    total = len([i for i in range(120) if i % 2 and i % 3])
    assert f"共 {total} 条" in first
    seen = refs_in(first)
    page = 1
    while (nxt := re.search(r'href="\?([^"]+)" rel="next"', first)):
        page += 1
        query = nxt.group(1).replace("&amp;", "&")
        assert "grid=GX01-01" in query and "category=noise" in query and f"page={page}" in query
        first = (await admin.get(f"/console/cases?{query}")).text
        seen += refs_in(first)
    assert len(seen) == len(set(seen)) == total


BROWSER_FORM = {"accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
                "content-type": "application/x-www-form-urlencoded"}


async def test_a_form_sent_after_the_session_ended_leads_to_the_sign_in_page(
        client_for: ClientFor, factory: CaseFactory) -> None:
    """A browser form (Accept: text/html) posted with an expired session used to get a bare 401,
    which Chromium shows as "This page isn't working". It now leads to the sign-in page, which says
    the action was not saved and comes back to the page the form was on."""
    case = factory.case(grid="GX01-01-1")
    admin = await client_for("admin")
    await admin.post("/console/logout", data={"csrf_token": csrf_of((await admin.get("/console/cases")).text)})
    referer = f"http://console.test/console/cases/{case.id}?done=noted"
    response = await admin.post(f"/console/cases/{case.id}/note", content="text=x&csrf_token=y",
                                headers={**BROWSER_FORM, "referer": referer})
    assert response.status_code == 303
    target = response.headers["location"]
    assert target.startswith("/console/login?")
    assert parse_qs(urlsplit(target).query) == {"next": [f"/console/cases/{case.id}?done=noted"], "expired": ["1"]}
    page = await admin.get(target)
    assert "登录已过期" in page.text and f'name="next" value="/console/cases/{case.id}?done=noted"' in page.text
    english = await admin.get(target, cookies={"gridline_console_lang": "en"})
    assert "Your session has ended and what you just sent was not saved" in english.text

    # Another site as the referrer is not followed; the staff inbox has its own sign-in page.
    elsewhere = await admin.post(f"/console/cases/{case.id}/note", content="text=x",
                                 headers={**BROWSER_FORM, "referer": "https://evil.example/console/cases"})
    assert parse_qs(urlsplit(elsewhere.headers["location"]).query)["next"] == ["/console/cases"]
    inbox = await admin.post(f"/console/inbox/cases/{case.id}/act", content="action=acknowledge",
                             headers={**BROWSER_FORM, "referer": "http://console.test/console/inbox"})
    assert inbox.status_code == 303 and inbox.headers["location"].startswith("/console/inbox/login")
    assert "登录已过期" in (await admin.get(inbox.headers["location"])).text

    # fetch, JSON and event-stream callers still get a plain 401.
    assert (await admin.post(f"/console/cases/{case.id}/note", data={"text": "x"})).status_code == 401
    assert (await admin.post("/console/inbox/push/subscribe", json={},
                             headers={"accept": "application/json"})).status_code == 401


async def test_a_console_address_that_does_not_exist_gets_the_console_error_page(client_for: ClientFor) -> None:
    """Unknown console paths, ids that are not numbers and a GET of a form-only address answered
    FastAPI's JSON ({"detail": "Not Found"}, a pydantic error list) in the middle of the console."""
    admin = await client_for("admin")
    browser = {"accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    for path in ("/console/nonexistent", "/console/cases/abc", "/console/households/x1", "/console/cases/3/nope"):
        response = await admin.get(path, headers=browser)
        assert response.status_code == 404, path
        assert response.headers["content-type"].startswith("text/html"), path
        assert "找不到该记录" in response.text and 'href="/console/cases"' in response.text, path
        assert "detail" not in response.text, path
    logout = await admin.get("/console/logout", headers=browser)
    assert logout.status_code == 405 and logout.headers["content-type"].startswith("text/html")
    assert "请使用页面上的按钮" in logout.text
    english = await admin.get("/console/nonexistent", headers=browser, cookies={"gridline_console_lang": "en"})
    assert "Not found, or outside the grids you may see." in english.text

    # JSON callers and the other apps keep FastAPI's JSON answers.
    assert (await admin.get("/console/nonexistent", headers={"accept": "application/json"})).status_code == 404
    assert (await admin.get("/nowhere", headers=browser)).json() == {"detail": "Not Found"}


async def test_a_sweeps_delivery_states_are_in_the_pages_language(client_for: ClientFor, console_services) -> None:
    """The sweep page listed its questions' delivery states as raw codes ("发送状态: queued 3")."""
    admin = await client_for("admin")
    token = csrf_of((await admin.get("/console/sweeps")).text)
    started = await admin.post("/console/sweeps", data={"csrf_token": token, "reason": "cold_wave",
                                                        "grids": ["GX01-01-1", "GX01-01-2"]})
    assert started.status_code == 303
    page = (await admin.get(started.headers["location"])).text
    line = re.search(r"发送状态: ([^<]*)<", page)
    assert line and line.group(1).strip() == "排队中 3", line
    english = (await admin.get(started.headers["location"], cookies={"gridline_console_lang": "en"})).text
    assert re.search(r": queued 3<", english)


async def test_a_category_has_one_name_in_the_console_the_inbox_and_the_residents_reply(
        client_for: ClientFor, factory: CaseFactory) -> None:
    """The console called property_management 物业管理 while the staff inbox, the page sent to the
    leader and the reply to the resident said 物业服务 (噪音 / 噪音扰民, 老人关爱 / 老人帮扶, 治安秩序 /
    社会治安, 紧急情况 / 紧急事件): two names for one category on the same case page."""
    from gridline.i18n import t

    cases = {code: factory.case(grid="GX01-01-1", category=code, staff="LDR-GX01-01-1")
             for code in ("property_management", "noise", "elderly_care", "public_order", "emergency", "elevator")}
    admin = await client_for("admin")
    leader = await client_for("leader-cheng")
    for lang in ("zh-CN", "en"):
        cookies = {"gridline_console_lang": lang}
        listed = (await admin.get("/console/cases", cookies=cookies)).text
        inbox = (await leader.get("/console/inbox", cookies=cookies)).text
        for code, case in cases.items():
            name = t(f"category.{code}", lang)  # what the resident and the paged leader read
            assert f'<span class="cat">{name}</span>' in listed, (lang, code, name)
            page = (await admin.get(f"/console/cases/{case.id}", cookies=cookies)).text
            assert f'<dd>{name}</dd>' in page or f'<span class="cat">{name}</span>' in page, (lang, code, name)
            assert name in inbox, (lang, code, name)


def facts_of(html: str) -> list[tuple[str, str]]:
    """The (label, value) pairs of the timeline's event facts."""
    timeline = html.split('<ol class="timeline">', 1)[1].split("</ol>", 1)[0]
    return re.findall(r"<dt>([^<]*)</dt><dd>([^<]*)</dd>", timeline)


async def test_a_transfers_timeline_facts_are_written_for_people(
        client_for: ClientFor, factory: CaseFactory, console_services) -> None:
    """The timeline of a transferred case showed raw stored values: 签收时限
    2026-12-02T08:53:05.621437+00:00, 原为 requested, 渠道 console, note …, 延长 3wd, and the actor
    'system' in the middle of a Chinese page."""
    from sqlmodel import select

    from gridline.routing import transfers
    from gridline.storage.models import Staff

    case = factory.case(grid="GX01-01-1", staff="LDR-GX01-01-1", ack_after=timedelta(minutes=5))
    supervisor = await client_for("sup-lianhua")
    token = csrf_of((await supervisor.get(f"/console/cases/{case.id}")).text)
    await supervisor.post(f"/console/cases/{case.id}/transfer",
                          data={"csrf_token": token, "department": "郑州自来水投资控股有限公司", "note": "主管道"})
    with console_services.db.session() as session:
        dept = session.exec(select(Staff.id).where(Staff.code == "DEP-WATER-1")).one()
    assert (await transfers.accept_transfer(console_services, case.id, dept, channel="web")).ok
    await supervisor.post(f"/console/cases/{case.id}/extension",
                          data={"csrf_token": token, "amount": "3", "reason": "等配件"})
    page = (await supervisor.get(f"/console/cases/{case.id}")).text
    facts = facts_of(page)
    values = [v for _, v in facts]
    assert not [v for v in values if re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d", v)], facts  # no ISO timestamps
    assert not {"requested", "console", "3wd", "72h"} & set(values), facts
    assert "note" not in [k for k, _ in facts], facts
    labels = dict(facts)
    assert labels["渠道"] in ("管理台", "网页") and "3个工作日" in values
    assert re.fullmatch(r"\d\d-\d\d \d\d:\d\d", labels["签收时限"]), labels
    assert "待签收" in values  # the transfer's status before it was accepted
    timeline = page.split('<ol class="timeline">', 1)[1].split("</ol>", 1)[0]
    assert '<span class="muted">system</span>' not in timeline and '<span class="muted">系统</span>' in timeline


async def test_the_case_export_names_the_channel_in_the_pages_language(
        client_for: ClientFor, factory: CaseFactory) -> None:
    """cases.csv translated the category, priority and status but left the channel a code (web, sms), and
    the case list showed a 主动发现 or Open311 case's channel as "visit" / "api"."""
    import csv
    import io

    factory.case(grid="GX01-01-1", channel="sms")
    factory.case(grid="GX01-01-1", channel="web")
    factory.case(grid="GX01-01-1", channel="visit")  # 主动发现
    factory.case(grid="GX01-01-1", channel="api")  # Open311
    admin = await client_for("admin")
    listed = (await admin.get("/console/cases")).text
    assert '<span class="chan chan-api">Open311 接口</span>' in listed
    for lang, expected in (("zh-CN", {"短信", "网页", "走访", "Open311 接口"}),
                           ("en", {"SMS", "Web", "Visit", "Open311"})):
        export = await admin.get("/console/cases.csv", cookies={"gridline_console_lang": lang})
        rows = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"))))
        column = rows[0].index("渠道" if lang == "zh-CN" else "Channel")
        assert {row[column] for row in rows[1:]} == expected, lang


async def test_the_audit_log_shows_chinese_details_as_chinese(client_for: ClientFor, factory: CaseFactory) -> None:
    """An audit entry's details were JSON with every Chinese character escaped
    ("department": "\\u90d1\\u5dde…"), unreadable for the auditor they are kept for."""
    case = factory.case(grid="GX01-01-1", staff="LDR-GX01-01-1", ack_after=timedelta(minutes=5))
    supervisor = await client_for("sup-lianhua")
    token = csrf_of((await supervisor.get(f"/console/cases/{case.id}")).text)
    await supervisor.post(f"/console/cases/{case.id}/transfer",
                          data={"csrf_token": token, "department": "郑州自来水投资控股有限公司",
                                "note": "主管道<script>x</script>"})
    audit = (await (await client_for("auditor")).get("/console/audit", params={"action": "transfer.requested"})).text
    assert "郑州自来水投资控股有限公司" in audit and "主管道&lt;script&gt;x&lt;/script&gt;" in audit
    assert "\\u90d1" not in audit and "\\u003c" not in audit


async def test_the_extension_heading_is_shown_only_with_something_under_it(
        client_for: ClientFor, factory: CaseFactory) -> None:
    """A case nobody holds showed an empty 延期 heading at the foot of the transfer card."""
    waiting = factory.case(grid="GX01-01-1", staff="LDR-GX01-01-1")
    held = factory.case(grid="GX01-01-1", staff="LDR-GX01-01-1", ack_after=timedelta(minutes=5))
    admin = await client_for("admin")
    assert "<h3>延期</h3>" not in (await admin.get(f"/console/cases/{waiting.id}")).text
    page = (await admin.get(f"/console/cases/{held.id}")).text
    assert "<h3>延期</h3>" in page and f'action="/console/cases/{held.id}/extension"' in page
    leader = await client_for("leader-cheng")  # reads, may not ask: nothing under the heading
    assert "<h3>延期</h3>" not in (await leader.get(f"/console/cases/{held.id}")).text


async def test_an_entity_in_a_residents_words_is_named_in_the_pages_language(
        client_for: ClientFor, factory: CaseFactory, console_services) -> None:
    """An address marked in the resident's message carried the model's code ("address") under it in
    the middle of a Chinese page; the facts below said 地址."""
    from sqlmodel import select

    from gridline.storage.models import Message
    from tests.console.factories import nlu_result

    text = "桐柏路199号院停水了"
    case = factory.case(grid="GX01-01-1", text=text)
    with console_services.db.session() as session:
        message = session.exec(select(Message).where(Message.case_id == case.id, Message.direction == "in")).one()
        message.nlu = nlu_result(text, "water_supply", 0.9,
                                 [{"entity": "address", "value": "桐柏路199号院", "start": 0, "end": 8}])
        session.add(message)
    admin = await client_for("admin")
    page = (await admin.get(f"/console/cases/{case.id}")).text
    assert '<mark class="entity" title="地址">桐柏路199号院<sub>地址</sub></mark>' in page
    english = (await admin.get(f"/console/cases/{case.id}", cookies={"gridline_console_lang": "en"})).text
    assert '<sub>Address</sub>' in english


async def test_a_web_visitor_without_a_name_is_named_by_the_channel_in_the_pages_language(
        client_for: ClientFor, factory: CaseFactory, console_services) -> None:
    """A sandbox / web visitor with no display name was listed as "web" (the channel's code)."""
    from sqlmodel import select

    from gridline.storage.models import Message

    case = factory.case(grid="GX01-01-1", channel="web")
    with console_services.db.session() as session:
        conversation_id = session.exec(select(Message.conversation_id).where(Message.case_id == case.id)).first()
    admin = await client_for("admin")
    listed = (await admin.get("/console/conversations")).text
    who = re.findall(r'<td data-label="居民">([^<]*)</td>', listed)
    assert who == ["网页"], who
    page = (await admin.get(f"/console/conversations/{conversation_id}")).text
    assert '<span class="masked" data-reveal-target>网页</span>' in page
    english = (await admin.get("/console/conversations", cookies={"gridline_console_lang": "en"})).text
    assert re.findall(r'<td data-label="Resident">([^<]*)</td>', english) == ["Web"]


async def test_dashboard_dates_given_the_wrong_way_round_are_taken_the_right_way_round(
        client_for: ClientFor, factory: CaseFactory) -> None:
    """从 12-05 到 12-01 silently showed the last 7 days instead, with the custom dates gone."""
    today = factory.now.date()
    start, end = today - timedelta(days=10), today - timedelta(days=3)
    admin = await client_for("admin")
    page = (await admin.get("/console/dashboard", params={"from": end.isoformat(), "to": start.isoformat()})).text
    assert f"本期 {start.isoformat()} 至 {end.isoformat()}" in page
    assert f'name="from" value="{start.isoformat()}"' in page and f'name="to" value="{end.isoformat()}"' in page


async def test_a_follow_up_calls_facts_are_named(client_for: ClientFor, factory: CaseFactory, console_services) -> None:
    """The timeline showed a 回访's facts as codes: 'follow_up_id 1', 结果 'satisfied'; a visit's 'ok'."""
    from gridline.storage.models import CaseEvent

    case = factory.case(grid="GX01-01-1", staff="LDR-GX01-01-1", resolve_after=timedelta(hours=2), rating=1)
    with console_services.db.session() as session:
        for kind, data in (("follow_up_created", {"reason": "low_rating", "follow_up_id": 1}),
                           ("follow_up_called", {"outcome": "satisfied", "rating": 4}),
                           ("follow_up_called", {"outcome": "unreachable"})):
            session.add(CaseEvent(case_id=case.id, at=factory.now, kind=kind, actor="console:admin", data=data))
    page = (await (await client_for("admin")).get(f"/console/cases/{case.id}")).text
    facts = facts_of(page)
    assert ("回访任务", "1") in facts and ("结果", "已解决，满意") in facts and ("结果", "联系不上") in facts, facts
    assert not {"satisfied", "unreachable", "follow_up_id"} & {x for pair in facts for x in pair}, facts
