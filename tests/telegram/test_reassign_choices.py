"""转交 offers only the people who can take the case: its grid's team, the contacts and supervisors of
the grids above it (its escalation chain), and the staff of the departments its category goes to —
not every department of the district, nor the leaders of other grids."""

from __future__ import annotations

from tests.telegram.conftest import TelegramWorld
from tests.telegram.support import only_case
from tests.telegram.test_conversations import LIAO_ZHIQIANG, register_by_location

WATER_DEPARTMENT = "武华"  # 郑州自来水投资控股有限公司, district-wide, handles water_supply
OTHER_DEPARTMENTS = ("谢佳琪", "于桂兰", "雷超", "汤鹏飞", "石伟", "彭晓东")  # power, gas, property, …
ZHONGYUAN_WATER = "万瑞峰"  # a water office attached to ZY01, a grid chain the case is not in


async def test_reassign_offers_the_grid_its_chain_and_the_categorys_department_only(telegram_world: TelegramWorld):
    world = telegram_world
    resident = await register_by_location(world)
    leader = world.person(LIAO_ZHIQIANG, "志强")
    await resident.says("俺们楼从昨天就停水了，咋弄")
    await world.drain()
    assert only_case(world.services).category == "water_supply"

    await leader.taps("转交")
    await world.drain()
    offered = leader.last_message.button_labels

    assert offered[0] == "叶保国", "the grid's own team comes first"
    assert {"傅子涵", "谭建国"} <= set(offered), "the level-2 and level-1 contacts above the grid"
    assert WATER_DEPARTMENT in offered
    assert not set(OTHER_DEPARTMENTS) & set(offered), offered
    assert ZHONGYUAN_WATER not in offered
    assert "程振华" not in offered, "a neighbouring grid's leader is not in this case's chain"
    assert "廖志强" not in offered and offered[-1] == "取消"


async def test_a_case_no_department_handles_offers_no_department(telegram_world: TelegramWorld):
    world = telegram_world
    resident = await register_by_location(world)
    leader = world.person(LIAO_ZHIQIANG, "志强")
    await resident.says("楼下的井盖没了，很危险")
    await world.drain()
    category = only_case(world.services).category

    await leader.taps("转交")
    await world.drain()
    offered = set(leader.last_message.button_labels)

    departments = {WATER_DEPARTMENT, ZHONGYUAN_WATER, *OTHER_DEPARTMENTS}
    handling = {"road_facility": {"汤鹏飞"}, "safety_hazard": {"彭晓东"}}.get(category, set())
    assert offered & departments == handling, (category, offered)
