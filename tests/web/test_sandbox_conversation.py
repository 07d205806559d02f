"""The whole loop through the sandbox's HTTP endpoints, as a newcomer clicks through it:
report → page in the leader's inbox → acknowledge → resident told → resolve → "solved?" yes → rating → closed."""

from __future__ import annotations

from sqlmodel import select

from gridline.clock import FakeClock
from gridline.storage.models import Case, ChannelIdentity, Page
from tests.core.support import RecordingNotifier
from tests.web.support import Sandbox, replies

LEADER = "LDR-ZY01-01-1"  # 龙小燕, leader of 桐柏路199号院's grid, on duty Thursday 10:00


async def test_report_page_ack_resident_told_resolve_rating(sandbox: Sandbox) -> None:
    resident = {"resident_id": await sandbox.resident_id("李秀英")}
    leader_id = await sandbox.staff_id(LEADER)

    chat = await sandbox.say(resident, text="俺们楼从昨天就没水了咋弄")
    assert chat["messages"][0]["direction"] == "in"
    assert chat["messages"][0]["text"] == "俺们楼从昨天就没水了咋弄"
    told = replies(chat)[-1]["text"]
    assert "龙小燕" in told
    (case,) = chat["cases"]
    assert case["category"] == "water_supply"
    assert case["paged_on_web"] == [{"staff_id": leader_id, "name": "龙小燕"}]
    assert [(p["name"], p["channel"], p["status"]) for p in case["pages"]] == [("龙小燕", "web", "delivered")]

    (page,) = await sandbox.inbox(leader_id)
    assert page["case"]["ref"] == case["ref"]
    assert page["case"]["summary"] == "俺们楼从昨天就没水了咋弄"
    assert page["status"] == "delivered"  # the web notifier: the row is the delivery
    assert [a["label"] for a in page["actions"]] == ["接单", "已解决", "上报", "转交"]

    ack = await sandbox.act(leader_id, page["page_id"], "acknowledge")
    assert ack.status_code == 200 and ack.json()["code"] == "acknowledged"
    chat = await sandbox.conversation(resident)
    assert any("龙小燕" in m["text"] and "接单" in m["text"] for m in replies(chat))
    (page,) = await sandbox.inbox(leader_id)
    assert page["status"] == "acknowledged"
    assert [a["action"] for a in page["actions"]] == ["resolve", "escalate", "reassign"]

    done = await sandbox.act(leader_id, page["page_id"], "resolve")
    assert done.status_code == 200 and done.json()["code"] == "resolved"
    chat = await sandbox.conversation(resident)
    asked = replies(chat)[-1]  # "resolved" is the leader's word: is it really solved?
    assert [o["data"] for o in asked["options"]] == [f"solved:{case['ref']}:yes", f"solved:{case['ref']}:no"]
    chat = await sandbox.say(resident, choice=asked["options"][0]["data"])
    rating_prompt = replies(chat)[-1]
    assert [o["data"] for o in rating_prompt["options"]] == [f"rate:{case['ref']}:{n}" for n in range(1, 6)]

    chat = await sandbox.say(resident, choice=rating_prompt["options"][4]["data"])
    assert chat["messages"][-2]["text"] == "★★★★★"  # the chat shows the button the resident tapped
    assert chat["cases"][0]["status"] == "closed"
    assert chat["cases"][0]["rating"] == 5
    with sandbox.services.db.session() as session:
        stored = session.exec(select(Case).where(Case.ref == case["ref"])).one()
        assert (stored.status, stored.rating, stored.channel) == ("closed", 5, "web")

    timeline = await sandbox.timeline(case["id"])
    events = [e["event"] for e in timeline["entries"] if e["kind"] == "event"]
    assert events == ["created", "paged", "acknowledged", "resolved", "resident_confirmed", "rated"]
    assert timeline["case"]["acknowledged_by"] == "龙小燕"
    said = [e["text"] for e in timeline["entries"] if e["kind"] == "message"]
    assert said[0] == "俺们楼从昨天就没水了咋弄"
    (page,) = await sandbox.inbox(leader_id)
    assert page["actions"] == []  # nothing left to do on a closed case


async def test_not_solved_reopens_the_case_one_level_up_with_the_residents_words(sandbox: Sandbox) -> None:
    resident = {"resident_id": await sandbox.resident_id("李秀英")}
    leader_id = await sandbox.staff_id(LEADER)
    level2_id = await sandbox.staff_id("L2-ZY01-01")  # 侯霞, level-2 contact of 桐柏社区
    chat = await sandbox.say(resident, text="俺们楼从昨天就没水了咋弄")
    (case,) = chat["cases"]
    (page,) = await sandbox.inbox(leader_id)
    await sandbox.act(leader_id, page["page_id"], "resolve")
    asked = replies(await sandbox.conversation(resident))[-1]

    chat = await sandbox.say(resident, choice=asked["options"][1]["data"])  # 没有解决
    assert "侯霞" in replies(chat)[-1]["text"]
    assert chat["cases"][0]["status"] == "paged"
    (reopened,) = await sandbox.inbox(level2_id)
    assert reopened["case"]["ref"] == case["ref"] and reopened["status"] == "delivered"
    timeline = await sandbox.timeline(case["id"])
    events = [e["event"] for e in timeline["entries"] if e["kind"] == "event"]
    assert events[-1] == "reopened_by_resident" and "resident_confirmed" not in events
    with sandbox.services.db.session() as session:
        stored = session.exec(select(Case).where(Case.ref == case["ref"])).one()
        assert (stored.status, stored.resolved_at, stored.rating) == ("paged", None, None)
    # the leader who called it resolved is not the one paged about it again
    assert [p["status"] for p in await sandbox.inbox(leader_id)] in ([], ["expired"], ["acknowledged"])


async def test_still_broken_in_words_answers_solved_as_no_whatever_category_the_model_reads(
    sandbox: Sandbox,
) -> None:
    """「灯还是不亮啊」 right after "问题真的解决了吗？" says it is not solved — the model reads a lamp as a
    road's street light (道路设施), not the building's property (物业服务) it was filed as."""
    resident = {"resident_id": await sandbox.resident_id("李秀英")}
    chat = await sandbox.say(resident, text="我家楼道的灯坏了好几天了，晚上黑漆漆的")
    (case,) = chat["cases"]
    (page,) = await sandbox.inbox(await sandbox.staff_id(LEADER))
    await sandbox.act(await sandbox.staff_id(LEADER), page["page_id"], "resolve")

    chat = await sandbox.say(resident, text="灯还是不亮啊")
    assert [c["ref"] for c in chat["cases"]] == [case["ref"]], "no new case"
    assert chat["cases"][0]["status"] == "paged"
    timeline = await sandbox.timeline(case["id"])
    assert [e["event"] for e in timeline["entries"] if e["kind"] == "event"][-1] == "reopened_by_resident"


async def test_another_problem_right_after_solved_is_asked_is_its_own_case(sandbox: Sandbox) -> None:
    resident = {"resident_id": await sandbox.resident_id("李秀英")}
    chat = await sandbox.say(resident, text="我家楼道的灯坏了好几天了，晚上黑漆漆的")
    (page,) = await sandbox.inbox(await sandbox.staff_id(LEADER))
    await sandbox.act(await sandbox.staff_id(LEADER), page["page_id"], "resolve")

    chat = await sandbox.say(resident, text="又停水了，一滴水都没有")
    assert sorted(c["category"] for c in chat["cases"]) == ["property_management", "water_supply"]


async def test_demo_resident_chats_through_one_linked_web_identity(sandbox: Sandbox) -> None:
    resident_id = await sandbox.resident_id("李秀英")
    await sandbox.say({"resident_id": resident_id}, command="start")
    chat = await sandbox.say({"resident_id": resident_id}, command="status")
    assert chat["resident"]["id"] == resident_id
    assert chat["resident"]["grid_code"] == "ZY01-01-1"
    assert len(replies(chat)) == 2
    with sandbox.services.db.session() as session:
        identities = session.exec(select(ChannelIdentity).where(ChannelIdentity.channel == "web")).all()
    assert [(i.external_id, i.resident_id) for i in identities] == [(f"resident-{resident_id}", resident_id)]


async def test_a_resident_who_types_status_gets_their_cases_not_a_new_one(sandbox: Sandbox) -> None:
    resident_id = await sandbox.resident_id("李秀英")
    who = {"resident_id": resident_id}
    reported = await sandbox.say(who, text="小区门口路灯不亮了")
    ref = reported["cases"][0]["ref"]
    chat = await sandbox.say(who, text="状态")
    assert [c["ref"] for c in chat["cases"]] == [ref]  # nothing new was filed for 「状态」
    assert ref in replies(chat)[-1]["text"]


async def test_dropped_pin_registers_the_anonymous_resident_in_the_grid_under_it(sandbox: Sandbox) -> None:
    newcomer = {"session_id": "pin-test-session-1"}
    # 桐柏路199号院 lies in base grid ZY01-01-1.
    chat = await sandbox.say(newcomer, location={"lat": 34.779163, "lon": 113.611855})
    assert chat["resident"]["grid_code"] == "ZY01-01-1"
    assert chat["resident"]["grid_name"] in replies(chat)[-1]["text"]
    assert chat["messages"][0]["text"].startswith("[location 34.77916,113.61186")

    chat = await sandbox.say(newcomer, text="俺们楼从昨天就没水了咋弄")
    assert chat["cases"][0]["grid_code"] == "ZY01-01-1"


async def test_a_pin_outside_every_grid_asks_for_an_address(sandbox: Sandbox) -> None:
    chat = await sandbox.say({"session_id": "pin-test-session-2"}, location={"lat": 39.9, "lon": 116.4})
    assert chat["resident"]["grid_code"] is None
    assert len(replies(chat)) == 1


async def test_reassign_moves_the_page_to_the_other_inbox(sandbox: Sandbox) -> None:
    resident = {"resident_id": await sandbox.resident_id("李秀英")}
    leader_id = await sandbox.staff_id(LEADER)
    contact_id = await sandbox.staff_id("L2-ZY01-01")  # 侯霞, the level-2 contact, paged on the web first
    await sandbox.say(resident, text="俺们楼从昨天就没水了咋弄")
    (page,) = await sandbox.inbox(leader_id)

    moved = await sandbox.act(leader_id, page["page_id"], "reassign", to_staff_id=contact_id)
    assert moved.status_code == 200 and moved.json()["code"] == "reassigned"
    (theirs,) = await sandbox.inbox(contact_id)
    assert theirs["case"]["ref"] == page["case"]["ref"]
    assert theirs["status"] == "delivered"
    (mine,) = await sandbox.inbox(leader_id)
    assert mine["status"] == "expired"


async def test_reassign_offers_the_people_who_can_take_the_case(sandbox: Sandbox) -> None:
    # The 转交 list is the case's routing.duty.reassignment_candidates (its grid, the grids above
    # it, its category's departments), not every web user: another district's leader is not offered.
    resident = {"resident_id": await sandbox.resident_id("李秀英")}
    leader_id = await sandbox.staff_id(LEADER)
    contact_id = await sandbox.staff_id("L2-ZY01-01")
    elsewhere_id = await sandbox.staff_id("LDR-GX01-01-1")  # 程振华, 莲花社区, another district
    await sandbox.say(resident, text="俺们楼从昨天就没水了咋弄")
    (page,) = await sandbox.inbox(leader_id)

    offered = {p["id"]: p for p in page["reassign_to"]}
    assert contact_id in offered and offered[contact_id]["name"] == "侯霞"
    assert {"name", "role_label", "grid_name"} <= offered[contact_id].keys()
    assert leader_id not in offered and elsewhere_id not in offered
    # Department staff have no grid: the list names their department instead of a bare dash.
    departments = [p for p in offered.values() if p["role"] == "department"]
    assert departments and all(p["grid_name"] not in ("", "—") for p in departments), departments
    refused = await sandbox.act(leader_id, page["page_id"], "reassign", to_staff_id=elsewhere_id)
    assert refused.status_code == 409 and refused.json()["code"] == "cannot_take"


async def test_someone_else_acknowledging_first_is_a_conflict_not_an_error(sandbox: Sandbox) -> None:
    resident = {"resident_id": await sandbox.resident_id("李秀英")}
    leader_id = await sandbox.staff_id(LEADER)
    await sandbox.say(resident, text="俺们楼从昨天就没水了咋弄")
    (page,) = await sandbox.inbox(leader_id)
    assert (await sandbox.act(leader_id, page["page_id"], "acknowledge")).status_code == 200
    again = await sandbox.act(leader_id, page["page_id"], "acknowledge")
    assert again.status_code == 409
    assert again.json()["code"] == "already_acknowledged"


async def test_a_resent_message_is_stored_and_answered_once(sandbox: Sandbox) -> None:
    resident = {"resident_id": await sandbox.resident_id("李秀英")}
    body = {"event_id": "5b0e1c52-3f56-4a55-9d2c-0d6f5d0c8a11", **resident, "text": "俺们楼从昨天就没水了咋弄"}
    first = await sandbox.http.post("/sandbox/api/messages", json=body)
    second = await sandbox.http.post("/sandbox/api/messages", json=body)
    assert (first.status_code, first.json()["duplicate"]) == (202, False)
    assert (second.status_code, second.json()["duplicate"]) == (202, True)
    await sandbox.drain()
    chat = await sandbox.conversation(resident)
    assert [m["direction"] for m in chat["messages"]].count("in") == 1
    with sandbox.services.db.session() as session:
        assert len(session.exec(select(Page)).all()) == 1


async def test_a_page_texted_to_a_phone_can_be_answered_from_the_inbox(sandbox: Sandbox, clock: FakeClock) -> None:
    texted = RecordingNotifier("sms")
    sandbox.services.notifiers.register(texted)  # no Twilio here: record what would have been texted
    clock.advance(hours=12)  # Thursday 22:00: the night member, paged by SMS first, is on duty
    resident = {"resident_id": await sandbox.resident_id("李秀英")}
    member_id = await sandbox.staff_id("MBR-ZY01-01-1")

    chat = await sandbox.say(resident, text="俺们楼从昨天就没水了咋弄")
    assert [(p["channel"], p["status"]) for p in chat["cases"][0]["pages"]] == [("sms", "sent")]
    assert [p.staff_id for p in texted.pages] == [member_id]
    (page,) = await sandbox.inbox(member_id)
    assert (page["channel"], page["channel_label"]) == ("sms", "短信")

    ack = await sandbox.act(member_id, page["page_id"], "acknowledge")
    assert ack.status_code == 200
    assert (await sandbox.conversation(resident))["cases"][0]["status"] == "acknowledged"


async def test_a_neighbour_reporting_the_same_problem_joins_the_case(sandbox: Sandbox) -> None:
    leader_id = await sandbox.staff_id(LEADER)
    first = await sandbox.say({"resident_id": await sandbox.resident_id("李秀英")}, text="俺们楼从昨天就没水了咋弄")
    second = await sandbox.say({"resident_id": await sandbox.resident_id("赵德明")}, text="俺们楼从昨天就没水了咋弄")
    # No case of their own: their list shows the one they joined (its news reaches them too).
    assert [c["ref"] for c in second["cases"]] == [first["cases"][0]["ref"]]
    assert "2" in replies(second)[-1]["text"] and first["cases"][0]["ref"] in replies(second)[-1]["text"]
    (page,) = await sandbox.inbox(leader_id)
    assert page["case"]["report_count"] == 2


async def test_an_action_on_the_english_page_is_answered_in_english(sandbox: Sandbox) -> None:
    """The inbox's labels follow the page's language; so does what it says after a tap (it said
    已接单：工单 … under English buttons)."""
    resident = {"resident_id": await sandbox.resident_id("李秀英")}
    leader_id = await sandbox.staff_id(LEADER)
    await sandbox.say(resident, text="俺们楼从昨天就没水了咋弄")
    (page,) = await sandbox.inbox(leader_id, lang="en")
    assert page["actions"][0]["label"] == "Acknowledge"
    tap = {"staff_id": leader_id, "page_id": page["page_id"], "action": "acknowledge"}
    response = await sandbox.http.post("/sandbox/api/actions", params={"lang": "en"}, json=tap)
    assert response.status_code == 200
    assert response.json()["text"].startswith("Acknowledged") and "已接单" not in response.json()["text"]


async def test_an_api_client_that_names_no_language_is_answered_in_the_language_it_writes(sandbox: Sandbox) -> None:
    """The page always says which language it shows; a client of the API that leaves ``lang`` out
    is answered in the language of its words, as an SMS is — English here, Chinese below."""
    english = await sandbox.say({"session_id": "visitor-en-0001"}, text="hello, who is my grid leader?")
    chinese = await sandbox.say({"session_id": "visitor-zh-0001"}, text="你好，我的网格长是谁？")

    said_in_english, said_in_chinese = replies(english)[-1]["text"], replies(chinese)[-1]["text"]
    assert any("a" <= ch.lower() <= "z" for ch in said_in_english)
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in said_in_english.replace("网格", "")), said_in_english
    assert any("\u4e00" <= ch <= "\u9fff" for ch in said_in_chinese), said_in_chinese
