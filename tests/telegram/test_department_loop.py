"""The department loop on Telegram, on both libraries: 转办部门 → 签收 → a reply to the page is the 回单 →
通过 → the resident is asked; 退单 with a reason button goes back to the leader; forged or foreign taps."""

from __future__ import annotations

import pytest
from sqlmodel import select

from gridline.storage.models import Transfer
from tests.conftest import BACKENDS
from tests.telegram.conftest import MakeWorld, TelegramWorld
from tests.telegram.support import only_case
from tests.telegram.test_conversations import LIAO_ZHIQIANG, register_by_location

YU_GUILAN = 7000000036  # DEP-GAS-1, 郑州华润燃气高新客服中心: Telegram first
WAN_RUIFENG = 7000000035  # DEP-WATER-2, a water department: not the gas one


def transfers(world: TelegramWorld) -> list[Transfer]:
    with world.services.db.session() as session:
        return list(session.exec(select(Transfer).order_by(Transfer.id)))


async def transferred_heating(world: TelegramWorld):
    resident = await register_by_location(world)
    leader = world.person(LIAO_ZHIQIANG, "志强")
    await resident.says("家里暖气一直不热，燃气壁挂炉也点不着")
    await world.drain()
    assert only_case(world.services).category == "gas_heating"
    await leader.taps("接单")
    await world.drain()
    await leader.taps("转办部门")
    await world.drain()
    assert "郑州华润燃气高新客服中心" in leader.last_answer["text"]
    return resident, leader


@pytest.mark.parametrize("backend", BACKENDS)
async def test_transfer_accept_reply_approve_on_telegram(make_telegram_world: MakeWorld, backend: str) -> None:
    world = await make_telegram_world(backend=backend)
    resident, leader = await transferred_heating(world)
    assert "郑州华润燃气高新客服中心" in resident.last_message.text

    dept = world.person(YU_GUILAN, "桂兰")
    page = dept.last_with_button("签收")
    assert "【转办】" in page.text and page.button_labels == ["签收", "退单"]
    await dept.taps("签收")
    await world.drain()
    assert "已签收" in dept.last_answer["text"]
    assert page.button_labels == ["回单", "退单", "延期"]  # the holder's buttons after 签收

    await dept.taps("回单")
    await world.drain()
    assert "回复这条消息" in dept.last_answer["text"]
    await dept.says("已上门检修壁挂炉，暖气恢复", reply_to=page)
    await world.drain()
    assert "已回单" in dept.last_message.text

    review = leader.last_with_button("通过")
    assert "【回单待审核】" in review.text and "暖气恢复" in review.text
    await leader.taps("通过")
    await world.drain()
    assert "审核通过" in leader.last_answer["text"]
    assert resident.last_message.button_labels == ["是，解决了", "没有解决"]
    case = only_case(world.services)
    assert case.status == "resolved"
    assert [t.status for t in transfers(world)] == ["approved"]


async def test_a_return_reason_button_sends_it_back_to_the_leader(telegram_world: TelegramWorld) -> None:
    world = telegram_world
    _, leader = await transferred_heating(world)
    dept = world.person(YU_GUILAN, "桂兰")
    await dept.taps("退单")
    await world.drain()
    question = dept.last_message
    assert "退单原因" in question.text and question.button_labels[0] == "1 非本部门职责"
    await dept.taps("2 派单类别错误", question)
    await world.drain()
    assert "已退回网格" in dept.last_answer["text"]
    back = [m for m in leader.inbox if "【退单】" in (m.text or "")]
    assert back and "派单类别错误" in back[-1].text
    assert [(t.status, t.return_reason) for t in transfers(world)] == [("returned", "wrong_category")]


async def test_another_department_and_forged_buttons_are_refused(telegram_world: TelegramWorld) -> None:
    world = telegram_world
    await transferred_heating(world)
    dept = world.person(YU_GUILAN, "桂兰")
    page = dept.last_with_button("签收")
    stranger = world.person(WAN_RUIFENG, "瑞峰")
    await stranger.taps_data(page.button("签收")["callback_data"], page)  # copied into another chat
    await world.drain()
    assert stranger.last_answer.get("show_alert")
    ref = only_case(world.services).ref
    await stranger.says(f"/accept {ref}")
    await world.drain()
    assert "不是您的部门" in stranger.last_message.text
    await stranger.says("/accept ZZZZZZ")
    await world.drain()
    assert "没有编号为 ZZZZZZ" in stranger.last_message.text
    assert [t.status for t in transfers(world)] == ["requested"]


async def test_the_review_page_of_a_case_with_no_resident_does_not_promise_to_ask_one(
    telegram_world: TelegramWorld,
) -> None:
    """A leader's own finding (主动发现) has nobody to ask 解决了吗: the review page says what 通过 does."""
    world = telegram_world
    _, leader = await transferred_heating(world)
    with world.services.db.session() as session:
        case = only_case(world.services)
        case.resident_id = None  # as a case a leader filed from a visit has none
        session.add(case)
        session.commit()
    dept = world.person(YU_GUILAN, "桂兰")
    page = dept.last_with_button("签收")
    await dept.taps("签收")
    await world.drain()
    await dept.says("已上门检修壁挂炉，暖气恢复", reply_to=page)
    await world.drain()
    review = leader.last_with_button("通过")
    assert "【回单待审核】" in review.text and "暖气恢复" in review.text
    assert "请居民确认" not in review.text and "通过后办结" in review.text, review.text
