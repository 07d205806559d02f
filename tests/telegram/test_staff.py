"""Staff on Telegram: linking an account, page buttons and who may use them, /duty, /cases, replies."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select
from typer.testing import CliRunner

from gridline.bots.telegram.linking import hash_code, issue_link_code
from gridline.storage.models import StaffLinkCode
from tests.conftest import SHANGHAI, START
from tests.telegram.conftest import TelegramWorld, telegram_bots
from tests.telegram.fake_bot_api import ChatMessage
from tests.telegram.support import contact_methods, identity_of, only_case, pages, staff
from tests.telegram.test_conversations import LIAO_ZHIQIANG, register_by_location

ZHANG_LEI = "MBR-GX01-01-1"  # 张磊, member of GX01-01-1: sms|voice|web, no Telegram yet
ZENG_LIJUAN = "MBR2-GX01-01-1"  # 曾丽娟, phone +86 170 0000 0003
CHENG_ZHENHUA = 7000000001  # 程振华, leader of the neighbouring grid GX01-01-1
YE_BAOGUO = 7000000003  # 叶保国, member of GX01-01-2 (廖志强's grid)


def issue(world: TelegramWorld, staff_code: str) -> str:
    with world.services.db.session() as session:
        issued = issue_link_code(
            session,
            staff_code,
            now=world.services.clock.now(),
            secret_key=world.services.settings.server.secret_key,
        )
    return issued.code


async def reported_case(world: TelegramWorld):
    """A resident of GX01-01-2 reports; 廖志强 is paged on Telegram."""
    resident = await register_by_location(world)
    await resident.says("楼下的井盖没了，很危险")
    await world.drain()
    leader = world.person(LIAO_ZHIQIANG, "志强")
    return resident, leader


# -- linking -------------------------------------------------------------------------------------------


async def test_a_one_time_code_links_the_account_and_adds_telegram_as_first_channel(telegram_world: TelegramWorld):
    world = telegram_world
    code = issue(world, ZHANG_LEI)
    phone = world.person(7100000001, "磊")
    await phone.says(f"/start {code}")
    await world.drain()
    assert "绑定成功" in phone.last_message.text and "张磊" in phone.last_message.text

    zhang = staff(world.services, ZHANG_LEI)
    identity = identity_of(world.services, phone.user_id, world.bot_name)
    assert identity is not None and identity.staff_id == zhang.id
    first = contact_methods(world.services, zhang.id)[0]
    assert (first.channel, first.target, first.bot_name) == ("telegram", str(phone.chat_id), world.bot_name)


async def test_a_link_code_works_once(telegram_world: TelegramWorld):
    world = telegram_world
    code = issue(world, ZHANG_LEI)
    await world.person(7100000001, "磊").says(f"/start {code}")
    intruder = world.person(7100000009, "某人")
    await intruder.says(f"/start {code}")
    await world.drain()
    assert "用过" in intruder.last_message.text
    identity = identity_of(world.services, intruder.user_id, world.bot_name)
    assert identity is None or identity.staff_id is None


async def test_a_link_code_expires_after_24_hours(telegram_world: TelegramWorld):
    world = telegram_world
    code = issue(world, ZHANG_LEI)
    world.clock.advance(hours=24, seconds=1)
    phone = world.person(7100000001, "磊")
    await phone.says(f"/start {code}")
    await world.drain()
    assert "过期" in phone.last_message.text
    identity = identity_of(world.services, phone.user_id, world.bot_name)
    assert identity is None or identity.staff_id is None


async def test_a_wrong_code_links_nothing(telegram_world: TelegramWorld):
    world = telegram_world
    issue(world, ZHANG_LEI)
    phone = world.person(7100000001, "磊")
    await phone.says("/start ABCDEFGHJK")
    await world.drain()
    assert "不对" in phone.last_message.text


async def test_only_a_keyed_hash_of_the_code_is_stored(telegram_world: TelegramWorld):
    world = telegram_world
    code = issue(world, ZHANG_LEI)
    with world.services.db.session() as session:
        [row] = session.exec(select(StaffLinkCode)).all()
    assert code not in row.code_hash
    assert row.code_hash == hash_code(code, world.services.settings.server.secret_key)
    assert row.expires_at - row.created_at == timedelta(hours=24)


async def test_sharing_ones_own_contact_links_a_staff_member_by_phone(telegram_world: TelegramWorld):
    world = telegram_world
    phone = world.person(7100000003, "丽娟")
    await phone.shares_contact("8617000000003")
    await world.drain()
    assert "绑定成功" in phone.last_message.text and "曾丽娟" in phone.last_message.text
    zeng = staff(world.services, ZENG_LIJUAN)
    identity = identity_of(world.services, phone.user_id, world.bot_name)
    assert identity is not None and identity.staff_id == zeng.id
    assert next(m.channel for m in contact_methods(world.services, zeng.id)) == "telegram"


async def test_the_command_line_issues_a_code_the_bot_accepts(telegram_world: TelegramWorld, monkeypatch):
    from gridline.cli import app

    world = telegram_world
    monkeypatch.setenv("GRIDLINE_DATABASE__URL", world.services.settings.database.url)
    monkeypatch.setenv("GRIDLINE_SERVER__SECRET_KEY", world.services.settings.server.secret_key)
    result = CliRunner().invoke(app, ["staff", "link-code", ZHANG_LEI])
    assert result.exit_code == 0, result.output
    code = result.output.split("/start ")[1].split()[0]
    world.clock.advance(minutes=5)  # the CLI used the real clock
    phone = world.person(7100000001, "磊")
    await phone.says(f"/start {code}")
    await world.drain()
    assert "绑定成功" in phone.last_message.text

    unknown = CliRunner().invoke(app, ["staff", "link-code", "NOBODY"])
    assert unknown.exit_code == 1


# -- buttons -------------------------------------------------------------------------------------------


async def test_a_staff_member_who_was_not_paged_is_refused(telegram_world: TelegramWorld):
    world = telegram_world
    _resident, leader = await reported_case(world)
    page = pages(world.services)[0]
    # 程振华 leads the next grid. Even with a genuinely signed button in his own chat, the core refuses.
    cheng = world.person(CHENG_ZHENHUA, "振华")
    signer = telegram_bots(world.services).get(world.bot_name).signer
    planted = ChatMessage(
        chat_id=cheng.chat_id,
        message_id=world.fake.new_message_id(cheng.chat_id),
        text="page",
        raw={"message_id": 1, "date": 1_795_000_000, "chat": {"id": cheng.chat_id, "type": "private"}},
    )
    await cheng.taps_data(signer.page_button(cheng.chat_id, page.id, "acknowledge"), planted)
    await world.drain()
    assert "不能处理" in cheng.last_answer["text"]
    assert cheng.last_answer["show_alert"] in (True, "true")
    assert only_case(world.services).status != "acknowledged"

    await leader.taps("接单")  # the paged leader still can
    await world.drain()
    assert only_case(world.services).status == "acknowledged"


async def test_forged_callback_data_is_refused_and_changes_nothing(telegram_world: TelegramWorld):
    world = telegram_world
    _resident, leader = await reported_case(world)
    message = leader.last_with_button("接单")
    genuine = message.button("接单")["callback_data"]
    prefix, page_id, action, mac = genuine.split(":")
    for forged in (f"{prefix}:{int(page_id) + 1}:{action}:{mac}", f"{prefix}:{page_id}:res:{mac}", "pg:1:ack:x"):
        await leader.taps_data(forged, message)
        await world.drain()
        assert "无效" in leader.last_answer["text"]
    assert only_case(world.services).status == "paged"


async def test_someone_without_a_linked_account_is_told_to_link_first(telegram_world: TelegramWorld):
    world = telegram_world
    await reported_case(world)
    page = pages(world.services)[0]
    stranger = world.person(7100000077, "路人")
    signer = telegram_bots(world.services).get(world.bot_name).signer
    planted = ChatMessage(
        chat_id=stranger.chat_id,
        message_id=1,
        text="page",
        raw={"message_id": 1, "date": 1_795_000_000, "chat": {"id": stranger.chat_id, "type": "private"}},
    )
    await stranger.taps_data(signer.page_button(stranger.chat_id, page.id, "acknowledge"), planted)
    await world.drain()
    assert "绑定" in stranger.last_answer["text"]
    assert only_case(world.services).status == "paged"


async def test_reassign_offers_the_grid_team_and_pages_the_chosen_colleague(telegram_world: TelegramWorld):
    world = telegram_world
    _resident, leader = await reported_case(world)
    await leader.taps("转交")
    await world.drain()
    question = leader.last_message
    assert "转交给谁" in question.text
    assert "叶保国" in question.button_labels and "取消" in question.button_labels

    await leader.taps("叶保国", question)
    await world.drain()
    assert "叶保国" in leader.last_answer["text"]
    assert question.buttons == [] and "叶保国" in question.text
    assert leader.inbox[0].buttons == [], "the page is no longer his to act on"
    ye = world.person(YE_BAOGUO, "保国")
    assert only_case(world.services).ref in ye.last_with_button("接单").text


# -- commands and replies ------------------------------------------------------------------------------


async def test_duty_lists_the_leaders_shifts_in_local_time(telegram_world: TelegramWorld):
    world = telegram_world
    leader = world.person(LIAO_ZHIQIANG, "志强")
    await leader.says("/duty")
    await world.drain()
    text = leader.last_message.text
    assert text.startswith("未来 7 天的值班")
    thursday = START.astimezone(SHANGHAI).date()  # the test clock starts on a Thursday morning
    friday = thursday + timedelta(days=1)
    assert f"周四 {thursday:%m-%d} 08:00–20:00" in text or f"周五 {friday:%m-%d} 08:00–20:00" in text
    assert "莲花社区第二网格" in text


async def test_duty_marks_a_backup_shift_with_full_width_brackets_in_chinese(telegram_world: TelegramWorld):
    world = telegram_world
    member = world.person(YE_BAOGUO, "保国")  # GX01-01-2's backup on weekdays 08:00–20:00
    await member.says("/duty")
    await world.drain()
    text = member.last_message.text
    backup_lines = [line for line in text.splitlines() if "备班" in line]
    assert backup_lines and all(line.endswith("西）（备班）") for line in backup_lines), text
    assert "(备班)" not in text


async def test_cases_lists_the_leaders_open_cases(telegram_world: TelegramWorld):
    world = telegram_world
    await reported_case(world)
    leader = world.person(LIAO_ZHIQIANG, "志强")
    await leader.says("/cases")
    await world.drain()
    assert only_case(world.services).ref in leader.last_message.text


async def test_a_leaders_reply_to_the_page_reaches_the_resident(telegram_world: TelegramWorld):
    world = telegram_world
    resident, leader = await reported_case(world)
    await leader.taps("接单")
    await world.drain()
    await leader.says("我十分钟后到，先别靠近井口", reply_to=leader.inbox[0])
    await world.drain()
    assert "我十分钟后到，先别靠近井口" in resident.last_message.text
    assert "已转告" in leader.last_message.text


async def test_a_leader_writing_without_replying_gets_help_not_a_case(telegram_world: TelegramWorld):
    world = telegram_world
    leader = world.person(LIAO_ZHIQIANG, "志强")
    await leader.says("你好")
    await world.drain()
    assert "/duty" in leader.last_message.text
    assert pages(world.services) == []
