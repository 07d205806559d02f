"""The department loop from the staff inbox: the leader transfers, the department accepts and replies,
the leader approves — the same domain actions as SMS and Telegram; wrong moves are answered."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

from sqlmodel import select

from gridline.storage.models import ContactMethod, Staff, Transfer
from tests.console.conftest import add_account
from tests.inbox.conftest import City, csrf_in

CITY_WATER = "DEP-WATER-1"  # 武华, 郑州自来水投资控股有限公司 (district-wide)


def web_first(city: City, code: str) -> None:
    with city.services.db.session() as session:
        staff = session.exec(select(Staff).where(Staff.code == code)).one()
        for method in session.exec(select(ContactMethod).where(ContactMethod.staff_id == staff.id)):
            method.position = 0 if method.channel == "web" else method.position + 10


def done_of(response) -> str:
    assert response.status_code == 303, response.text
    return parse_qs(urlparse(response.headers["location"]).query).get("done", [""])[0]


async def test_transfer_accept_reply_approve_in_the_inbox(city: City, client_for) -> None:
    web_first(city, CITY_WATER)
    add_account(city.services, "dep-water", "leader", staff=CITY_WATER)
    case = await city.report("GX01-01-1", "小区主管道破裂停水")
    leader = await client_for("leader-cheng")
    page = (await leader.get("/console/inbox")).text
    assert "限时" in page and f'/console/inbox/cases/{case.id}/loop' in page
    token = csrf_in(page)
    assert done_of(await leader.post(f"/console/inbox/cases/{case.id}/act",
                                     data={"csrf_token": token, "action": "acknowledge"})) == "acknowledged_quiet"
    assert done_of(await leader.post(f"/console/inbox/cases/{case.id}/loop",
                                     data={"csrf_token": token, "verb": "accept"})) == "bad_action"  # not the grid's
    assert done_of(await leader.post(f"/console/inbox/cases/{case.id}/loop",
                                     data={"csrf_token": token, "verb": "transfer", "text": "需抢修"})) == "transferred"
    await city.drain(city.services)

    dept = await client_for("dep-water")
    dept_page = (await dept.get("/console/inbox")).text
    assert case.ref in dept_page
    dept_token = csrf_in(dept_page)
    url = f"/console/inbox/cases/{case.id}/loop"
    assert done_of(await dept.post(url, data={"csrf_token": dept_token, "verb": "reply", "text": "修好了"})) == (
        "not_accepted")
    assert done_of(await dept.post(f"/console/inbox/cases/{case.id}/act",
                                   data={"csrf_token": dept_token, "action": "resolve"})) == "use_loop"
    assert done_of(await dept.post(url, data={"csrf_token": dept_token, "verb": "accept"})) == "accepted"
    answered = await dept.post(url, data={"csrf_token": dept_token, "verb": "reply", "text": "已更换管段"})
    assert done_of(answered) == "replied"
    shown = (await dept.get(answered.headers["location"])).text
    assert "等待网格审核" in shown
    await city.drain(city.services)

    # The city's cases have no resident: nobody is asked 解决了吗, and the notice does not say so.
    assert done_of(await leader.post(url, data={"csrf_token": token, "verb": "approve"})) == "approved_quiet"
    stored = city.case(case.id or 0)
    assert stored.status == "resolved" and stored.resolved_by == city.staff_id(CITY_WATER)
    with city.services.db.session() as session:
        assert [t.status for t in session.exec(select(Transfer))] == ["approved"]


async def test_a_department_is_offered_only_what_it_may_do_on_a_transferred_case(city: City, client_for) -> None:
    """The department's inbox showed 已解决 and 上报 as the big buttons of a transferred case, and both
    always answered "请用签收、回单或退单" — the loop form (签收 / 回单 / 退单 / 延期) is what it may use."""
    web_first(city, CITY_WATER)
    add_account(city.services, "dep-water", "leader", staff=CITY_WATER)
    case = await city.report("GX01-01-1", "小区主管道破裂停水")
    leader = await client_for("leader-cheng")
    token = csrf_in((await leader.get("/console/inbox")).text)
    await leader.post(f"/console/inbox/cases/{case.id}/act", data={"csrf_token": token, "action": "acknowledge"})
    await leader.post(f"/console/inbox/cases/{case.id}/loop", data={"csrf_token": token, "verb": "transfer"})
    await city.drain(city.services)

    page = (await (await client_for("dep-water")).get("/console/inbox")).text
    card = page.split(f'id="case-{case.id}"', 1)[1].split("</article>", 1)[0]
    assert 'name="action" value="resolve"' not in card and 'name="action" value="escalate"' not in card
    assert f'action="/console/inbox/cases/{case.id}/loop"' in card and 'value="accept"' in card
    assert f'action="/console/inbox/cases/{case.id}/note"' in card
    assert '<details class="inbox-more" open>' in card  # the loop form is the card's main action: in sight
