"""A roster re-import keeps the rows of the people it lists again, so the check-ins planned for them
stay theirs and follow a changed phone or time; a member it no longer lists leaves the roster: their
check-ins not asked yet are cancelled, one already asked runs its course, and listed again they come
back as the same row. Scripts through the fake Twilio on the demo household 1-1-101 (王桂芝)."""

from __future__ import annotations

import pytest
from sqlmodel import col, select

from gridline.importers.households import import_households
from gridline.storage import households as roster
from gridline.storage.models import CheckIn, CheckInEvent, HouseholdPerson
from tests.conftest import BACKENDS
from tests.twilio.conftest import TwilioWorld

HEADER = (
    "grid_code,building,unit,room,address,tags,members,family,helper_name,helper_phone,consent_checkin,"
    "consent_family,checkin_channel,checkin_time,checkin_member\n"
)
ROW = (
    "ZY01-01-1,1,1,101,郑州市中原区桐柏路199号院,独居老人;高龄,{members},王建军/+86 170 0002 0101/儿子,张阿姨,"
    "+86 170 0002 0201,是,是,{channel},{at},{member}\n"
)
WANG = "王桂芝/+86 170 0002 0001"
WANG_NEW_PHONE = "王桂芝/+86 170 0002 0009"
GRANDSON = "王小军/+86 170 0002 0008"


def reimport(world: TwilioWorld, members: str, *, channel: str = "sms", at: str = "10:30", member: str = "") -> int:
    row = ROW.format(members=members, channel=channel, at=at, member=member)
    summary = import_households(world.services.db, (HEADER + row).encode(), world.services.settings,
                                now=world.clock.now(), name="roster.csv")  # fmt: skip
    assert (summary.created, summary.updated) == (0, 1)
    return summary.left


def person(world: TwilioWorld, name: str) -> HouseholdPerson:
    with world.services.db.session() as session:
        return session.exec(select(HouseholdPerson).where(HouseholdPerson.name == name)).one()


def checkins_of(world: TwilioWorld, person_id: int) -> list[CheckIn]:
    with world.services.db.session() as session:
        return list(session.exec(select(CheckIn).where(CheckIn.person_id == person_id).order_by(col(CheckIn.id))))


def listed(world: TwilioWorld) -> list[str]:
    with world.services.db.session() as session:
        return [p.name for p in roster.people_of(session, person(world, "王桂芝").household_id)]


@pytest.mark.parametrize("world", BACKENDS, indirect=True)
async def test_a_reimport_keeps_the_member_row_and_her_check_ins_follow_the_new_phone_and_time(
    world: TwilioWorld,
) -> None:
    assert reimport(world, WANG) == 0
    await world.settle()
    wang = person(world, "王桂芝")
    today, tomorrow = checkins_of(world, wang.id or 0)
    assert today.status == tomorrow.status == "scheduled"

    # A new number for her, 11:00 instead of 10:30, and her grandson moved in.
    assert reimport(world, f"{WANG_NEW_PHONE};{GRANDSON}", at="11:00", member="王桂芝") == 0
    again = person(world, "王桂芝")
    assert again.id == wang.id and again.phone == "+8617000020009" and again.removed_at is None
    assert [c.id for c in checkins_of(world, wang.id or 0)] == [today.id, tomorrow.id]
    assert (checkins_of(world, wang.id or 0)[0].due_at - today.due_at).total_seconds() == 30 * 60
    assert listed(world) == ["王桂芝", "王小军", "王建军"]

    world.clock.advance(minutes=30)  # 10:30: the old time passes quietly
    await world.settle()
    world.phone("+8617000020001").expect_no_sms()
    world.clock.advance(minutes=30)  # 11:00
    await world.settle()
    world.phone("+8617000020009").expect_sms("平安守护", "王桂芝", "回复1 报平安")
    world.phone("+8617000020001").expect_no_sms()


@pytest.mark.parametrize("world", BACKENDS, indirect=True)
async def test_a_member_no_longer_listed_leaves_the_roster_and_comes_back_as_the_same_row(
    world: TwilioWorld,
) -> None:
    assert reimport(world, f"{WANG};{GRANDSON}", member="王小军") == 0
    await world.settle()
    grandson = person(world, "王小军")
    today, tomorrow = checkins_of(world, grandson.id or 0)
    world.clock.advance(minutes=30)  # 10:30: today's question goes out
    await world.settle()
    world.phone("+8617000020008").expect_sms("回复1 报平安")

    # He moved away: the file lists 王桂芝 alone (and opts her in instead).
    assert reimport(world, WANG, member="王桂芝") == 1
    gone = person(world, "王小军")
    assert gone.id == grandson.id and gone.removed_at is not None and gone.checkin_channel == "sms"
    assert listed(world) == ["王桂芝", "王建军"]
    today_now, tomorrow_now = checkins_of(world, grandson.id or 0)
    assert today_now.status == "asked"  # asked already: an answer still counts, silence still reaches people
    assert tomorrow_now.status == "cancelled"
    with world.services.db.session() as session:
        why = session.exec(select(CheckInEvent).where(CheckInEvent.checkin_id == tomorrow.id,
                                                      CheckInEvent.kind == "cancelled")).one().data  # fmt: skip
    assert why["why"] == "left the roster"
    await world.settle()
    assert {c.cycle for c in checkins_of(world, grandson.id or 0)} == {today.cycle, tomorrow.cycle}  # none new

    # Back home: the same row again, and tomorrow's check-in is planned for him once more.
    assert reimport(world, f"{WANG};{GRANDSON}", member="王小军") == 0
    back = person(world, "王小军")
    assert back.id == grandson.id and back.removed_at is None
    assert listed(world) == ["王桂芝", "王小军", "王建军"]


def test_people_are_matched_by_name_and_phone_then_name_then_phone_never_by_a_guess() -> None:
    from gridline.importers.households import match_people

    def p(name: str, phone: str | None = None, kind: str = "member", pid: int = 0) -> HouseholdPerson:
        return HouseholdPerson(id=pid, household_id=1, kind=kind, name=name, phone=phone)

    stored = [p("王桂芝", "+1", pid=1), p("王小军", "+2", pid=2), p("李明", pid=3), p("李明", pid=4),
              p("王建军", "+9", kind="family", pid=5)]  # fmt: skip
    listed = [p("王小军", "+7"), p("王贵芝", "+1"), p("李明"), p("王建军", "+9", kind="family"), p("张三", "+2")]
    pairs = {i: row.id for i, row in match_people(stored, listed).items()}
    # 王小军's new phone (by name); 王贵芝 is 王桂芝 with a typo (by phone); one 李明 of two identical;
    # the family contact by name and phone; 张三 has 王小军's old phone, but 王小军 was matched by name.
    assert pairs == {0: 2, 1: 1, 2: 3, 3: 5}
