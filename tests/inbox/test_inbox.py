"""The staff inbox over HTTP: sign-in, scope, every action through the domain, CSRF on every POST."""

from __future__ import annotations

import re

import httpx
from sqlmodel import col, select

from gridline.storage import staff_inbox as store
from gridline.storage.models import Acknowledgement, CaseEvent
from tests.inbox.conftest import CHENG, LEI, City, ClientFor, csrf_in, refs_in


async def test_the_inbox_needs_a_login(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.get("/console/inbox")
    assert response.status_code == 303 and response.headers["location"] == "/console/inbox/login"
    page = await anonymous.get("/console/inbox/login")
    assert (
        page.status_code == 200
        and 'action="/console/login"' in page.text
        and 'action="/console/inbox/link"' in page.text
    )
    assert (await anonymous.post("/console/inbox/cases/1/act", data={"action": "acknowledge"})).status_code == 401


async def test_a_leader_signs_in_with_the_console_password_and_sees_their_page(
    city: City, client_for: ClientFor
) -> None:
    case = await city.report("GX01-01-1", "莲花街100号院停水了")
    assert [p.status for p in city.pages_of(case.id or 0)] == ["delivered"]  # handed to the web inbox
    cheng = await client_for("leader-cheng")
    html = (await cheng.get("/console/inbox")).text
    assert case.ref in refs_in(html) and "莲花街100号院停水了" in html
    assert 'rel="manifest" href="/console/inbox/manifest.webmanifest"' in html
    assert html.count(f'action="/console/inbox/cases/{case.id}/act"') == 4  # 接单 已解决 上报 + 转交
    english = (await cheng.get("/console/inbox", cookies={"gridline_console_lang": "en"})).text
    assert "Pages waiting for you" in english and "Acknowledge" in english


async def test_a_leader_of_another_grid_can_neither_see_nor_act(city: City, client_for: ClientFor) -> None:
    mine = await city.report("GX01-01-1", "莲花街100号院停水了")
    theirs = await city.report("GX01-02-1", "隔壁网格的路灯坏了", category="road_facility")
    cheng = await client_for("leader-cheng")
    html = (await cheng.get("/console/inbox")).text
    assert mine.ref in refs_in(html) and theirs.ref not in refs_in(html) and "隔壁网格" not in html
    token = csrf_in(html)
    for action in ("acknowledge", "resolve", "escalate"):
        response = await cheng.post(
            f"/console/inbox/cases/{theirs.id}/act", data={"csrf_token": token, "action": action}
        )
        assert response.status_code == 404, action
    reassign = await cheng.post(
        f"/console/inbox/cases/{theirs.id}/act",
        data={"csrf_token": token, "action": "reassign", "to_staff": str(city.staff_id(CHENG))},
    )
    assert reassign.status_code == 404
    assert (
        await cheng.post(f"/console/inbox/cases/{theirs.id}/note", data={"csrf_token": token, "text": "看看"})
    ).status_code == 404
    assert city.case(theirs.id or 0).status == "paged"
    with city.services.db.session() as session:
        assert not session.exec(
            select(CaseEvent).where(CaseEvent.case_id == theirs.id, col(CaseEvent.actor).like("staff:%"))
        ).all()
    lei_html = (await (await client_for("leader-lei")).get("/console/inbox")).text
    assert theirs.ref in refs_in(lei_html) and mine.ref not in refs_in(lei_html)


async def act(client: httpx.AsyncClient, case_id: int, action: str, **extra: str) -> httpx.Response:
    token = csrf_in((await client.get("/console/inbox")).text)
    response = await client.post(
        f"/console/inbox/cases/{case_id}/act", data={"csrf_token": token, "action": action, **extra}
    )
    assert response.status_code == 303, response.text
    return response


async def test_acknowledge_and_resolve_go_through_the_domain(city: City, client_for: ClientFor) -> None:
    case = await city.report("GX01-01-1", "莲花街100号院停水了")
    cheng = await client_for("leader-cheng")
    response = await act(cheng, case.id or 0, "acknowledge")
    assert "done=acknowledged" in response.headers["location"]
    await city.drain(city.services)
    acked = city.case(case.id or 0)
    assert acked.status == "acknowledged" and acked.acknowledged_by == city.staff_id(CHENG)
    with city.services.db.session() as session:
        ack = session.exec(select(Acknowledgement).where(Acknowledgement.case_id == case.id)).one()
        assert ack.channel == "web" and ack.page_id == city.pages_of(case.id or 0)[0].id
        # The escalation stopped: no step is left pending.
        assert not session.exec(
            select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.kind == "escalated")
        ).all()
    page_html = (await cheng.get(response.headers["location"])).text
    assert "已接单" in page_html
    # Held, not waiting: the case moves to "cases you hold" with only 已解决 / 上报 / 转交 left.
    assert page_html.count(f'action="/console/inbox/cases/{case.id}/act"') == 3
    assert "done=resolved" in (await act(cheng, case.id or 0, "resolve")).headers["location"]
    assert city.case(case.id or 0).status == "resolved"
    assert case.ref not in refs_in((await cheng.get("/console/inbox")).text)


async def test_escalate_reassign_and_note_go_through_the_domain(city: City, client_for: ClientFor) -> None:
    case = await city.report("GX01-01-1", "莲花街100号院停水了")
    cheng = await client_for("leader-cheng")
    assert "done=escalated" in (await act(cheng, case.id or 0, "escalate")).headers["location"]
    await city.drain(city.services)
    assert city.case(case.id or 0).status == "escalated"
    with city.services.db.session() as session:
        assert (
            session.exec(select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.kind == "escalated_by_staff"))
            .one()
            .actor
            == f"staff:{CHENG}"
        )
    member = city.staff_id("MBR-GX01-01-1")
    response = await act(cheng, case.id or 0, "reassign", to_staff=str(member))
    assert "done=reassigned" in response.headers["location"]
    await city.drain(city.services)
    reassigned = city.case(case.id or 0)
    assert reassigned.assignee_staff_id == member and reassigned.status == "paged"
    assert any(p.staff_id == member and p.reason == "reassigned" for p in city.pages_of(case.id or 0))
    token = csrf_in((await cheng.get("/console/inbox")).text)
    noted = await cheng.post(f"/console/inbox/cases/{case.id}/note", data={"csrf_token": token, "text": "已联系物业"})
    assert noted.status_code == 303 and "done=noted" in noted.headers["location"]
    with city.services.db.session() as session:
        note = session.exec(select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.kind == "note")).one()
    assert note.actor == f"staff:{CHENG}" and note.data["text"] == "已联系物业" and note.data["channel"] == "web"
    bad = await cheng.post(f"/console/inbox/cases/{case.id}/act", data={"csrf_token": token, "action": "delete"})
    assert "done=bad_action" in bad.headers["location"]


async def test_an_auditor_reads_nothing_to_act_on_and_cannot_act(city: City, client_for: ClientFor) -> None:
    case = await city.report("GX01-01-1", "莲花街100号院停水了")
    auditor = await client_for("auditor")
    html = (await auditor.get("/console/inbox")).text
    assert case.ref not in refs_in(html) and "尚未关联" in html
    token = csrf_in(html)
    response = await auditor.post(
        f"/console/inbox/cases/{case.id}/act", data={"csrf_token": token, "action": "acknowledge"}
    )
    assert response.status_code == 403 and city.case(case.id or 0).status == "paged"


async def test_every_post_needs_the_csrf_token(city: City, client_for: ClientFor, anonymous: httpx.AsyncClient) -> None:
    case = await city.report("GX01-01-1", "莲花街100号院停水了")
    cheng = await client_for("leader-cheng")
    subscription = {"endpoint": "https://push.example.test/x", "keys": {"p256dh": "k", "auth": "a"}}
    posts = [
        (f"/console/inbox/cases/{case.id}/act", {"data": {"action": "acknowledge"}}),
        (f"/console/inbox/cases/{case.id}/act", {"data": {"action": "resolve"}}),
        (f"/console/inbox/cases/{case.id}/act", {"data": {"action": "escalate"}}),
        (f"/console/inbox/cases/{case.id}/act", {"data": {"action": "reassign", "to_staff": str(city.staff_id(LEI))}}),
        (f"/console/inbox/cases/{case.id}/note", {"data": {"text": "x"}}),
        ("/console/inbox/push/subscribe", {"json": subscription}),
        ("/console/inbox/push/unsubscribe", {"json": subscription}),
    ]
    for path, body in posts:
        for token in (None, "forged-token"):
            data = dict(body.get("data", {}))
            if token and "data" in body:
                data["csrf_token"] = token
            headers = {"x-csrf-token": token} if token and "json" in body else {}
            kwargs = {"data": data} if "data" in body else {"json": body["json"]}
            response = await cheng.post(path, headers=headers, **kwargs)  # type: ignore[arg-type]
            assert response.status_code == 403, (path, token, response.status_code)
    assert city.case(case.id or 0).status == "paged"
    with city.services.db.session() as session:
        assert store.subscriptions_of(session, city.staff_id(CHENG)) == []
        assert not session.exec(select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.kind == "note")).all()
    # The pre-session forms (ask for a link, use a link) carry the login CSRF token instead.
    for path in ("/console/inbox/link", "/console/inbox/link/" + "a" * 43):
        assert (await anonymous.post(path, data={"who": CHENG})).status_code == 403
        assert (await anonymous.post(path, data={"who": CHENG, "csrf_token": "x.y"})).status_code == 403
    # With the token the subscription is stored (the same request shape the page's script sends).
    token = csrf_in((await cheng.get("/console/inbox")).text)
    ok = await cheng.post("/console/inbox/push/subscribe", json=subscription, headers={"x-csrf-token": token})
    assert ok.status_code == 200
    malformed = await cheng.post("/console/inbox/push/subscribe", content=b"[1,", headers={"x-csrf-token": token})
    assert malformed.status_code == 422


def test_the_store_knows_the_lifecycle_s_open_statuses() -> None:
    from gridline.domain.lifecycle import OPEN_PAGE_STATUSES, CaseStatus

    assert set(store.OPEN_PAGE_STATUSES) == {s.value for s in OPEN_PAGE_STATUSES}
    assert set(store.CLOSED_CASE_STATUSES) == {CaseStatus.RESOLVED.value, CaseStatus.CLOSED.value}


async def test_manifest_and_service_worker_make_it_installable(anonymous: httpx.AsyncClient) -> None:
    manifest = await anonymous.get("/console/inbox/manifest.webmanifest")
    assert manifest.status_code == 200 and manifest.headers["content-type"].startswith("application/manifest+json")
    data = manifest.json()
    assert data["start_url"] == "/console/inbox" and data["display"] == "standalone" and data["icons"]
    worker = await anonymous.get("/console/inbox/sw.js")
    assert worker.status_code == 200 and "javascript" in worker.headers["content-type"]
    assert 'addEventListener("push"' in worker.text and "showNotification" in worker.text
    assert (await anonymous.get(data["icons"][0]["src"])).status_code == 200


async def test_the_sandbox_leader_pane_shows_the_same_pages_as_the_inbox(city: City) -> None:
    from gridline.app import create_app
    from tests.console.conftest import login

    demo = create_app(city.services, run_jobs=False, sandbox=True)  # installs the web notifier
    case = await city.report("GX01-01-1", "莲花街100号院停水了")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=demo), base_url="http://demo.test") as http:
        pane = (await http.get(f"/sandbox/api/inbox/{city.staff_id(CHENG)}")).json()["pages"]
        [entry] = [p for p in pane if p["case"]["id"] == case.id]
        assert entry["channel"] == "web" and entry["status"] == "delivered"
        assert (await login(http, "leader-cheng")).status_code == 303
        await act(http, case.id or 0, "acknowledge")
        pane = (await http.get(f"/sandbox/api/inbox/{city.staff_id(CHENG)}")).json()["pages"]
        [entry] = [p for p in pane if p["case"]["id"] == case.id]
        assert entry["status"] == "acknowledged" and entry["case"]["status"] == "acknowledged"


async def test_a_supervisor_answers_a_triage_page_from_the_inbox(city: City, app: object) -> None:
    from gridline.storage.models import Staff
    from tests.console.conftest import add_account, login

    # No grid: the case goes to triage and pages the supervisors on duty.
    case = await city.report_triage("说不清在哪儿，反正路灯全灭了")
    paged = city.pages_of(case.id or 0)
    assert paged and case.grid_code is None and case.status == "paged"
    with city.services.db.session() as session:
        supervisor = session.get(Staff, paged[0].staff_id)
        assert supervisor is not None and supervisor.role == "supervisor"
    add_account(city.services, "sup-on-duty", "supervisor", grid=supervisor.grid_code, staff=supervisor.code)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://inbox.test") as http:  # type: ignore[arg-type]
        assert (await login(http, "sup-on-duty")).status_code == 303
        assert case.ref in refs_in((await http.get("/console/inbox")).text)
        assert "done=acknowledged" in (await act(http, case.id or 0, "acknowledge")).headers["location"]
    assert city.case(case.id or 0).acknowledged_by == supervisor.id


async def test_out_of_range_and_odd_ids_are_4xx_not_5xx(city: City, client_for: ClientFor) -> None:
    case = await city.report("GX01-01-1", "莲花街100号院停水了")
    cheng = await client_for("leader-cheng")
    token = csrf_in((await cheng.get("/console/inbox")).text)
    paths = (f"/console/inbox/cases/{2**63}/act", f"/console/inbox/cases/{2**64}/note", "/console/inbox/cases/0/act")
    for path in paths:
        response = await cheng.post(path, data={"csrf_token": token, "action": "acknowledge", "text": "x"})
        assert 400 <= response.status_code < 500, (path, response.status_code)
    for odd in (str(2**63), "²", "①", "-1", "1e3"):
        response = await cheng.post(f"/console/inbox/cases/{case.id}/act",
                                    data={"csrf_token": token, "action": "reassign", "to_staff": odd})
        assert response.status_code == 303 and "done=bad_action" in response.headers["location"], odd
    assert city.case(case.id or 0).status == "paged"


async def test_reassign_offers_and_accepts_only_people_who_can_take_the_case(city: City, client_for: ClientFor) -> None:
    # A water case: the grid's team, the grids above it and the water company — not the police station.
    case = await city.report("GX01-01-1", "莲花街100号院停水了")
    cheng = await client_for("leader-cheng")
    html = (await cheng.get("/console/inbox")).text
    offered = html[html.index('name="to_staff"'):html.index("</select>", html.index('name="to_staff"'))]
    assert f'value="{city.staff_id("MBR-GX01-01-1")}"' in offered and "武华" in offered
    assert "彭晓东" not in offered and "廖志强" not in offered

    police = city.staff_id("DEP-POLICE-1")
    refused = await act(cheng, case.id or 0, "reassign", to_staff=str(police))
    assert "done=cannot_take" in refused.headers["location"]
    notice = (await cheng.get(refused.headers["location"])).text
    assert "只能转交给本网格的人员" in notice
    assert city.case(case.id or 0).assignee_staff_id != police
    assert not any(p.staff_id == police for p in city.pages_of(case.id or 0))


def notice_in(html: str) -> str:
    """The result notice at the top of the inbox page."""
    found = re.search(r'<p class="alert[^"]*" role="status">([^<]*)</p>', html)
    assert found, "the page shows no result notice"
    return found.group(1)


async def test_acting_on_a_case_with_no_resident_does_not_say_the_resident_was_told(
    city: City, client_for: ClientFor
) -> None:
    """A case nobody reported (a leader's own 主动发现; these cases have no resident): 接单 and 已解决
    said 「居民已收到通知」 and 「已请居民确认是否真的解决」, though nobody was told or asked."""
    case = await city.report("GX01-01-1", "巡查发现莲花街100号院消防通道堵塞")
    cheng = await client_for("leader-cheng")
    taken = await act(cheng, case.id or 0, "acknowledge")
    assert notice_in((await cheng.get(taken.headers["location"])).text) == f"已接单：工单 {case.ref}。"
    done = await act(cheng, case.id or 0, "resolve")
    english = await cheng.get(done.headers["location"], cookies={"gridline_console_lang": "en"})
    assert notice_in(english.text) == f"Case {case.ref} marked resolved."
