"""Time limits in working days, counted with the Chinese public-holiday calendar (限时办理)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError
from sqlmodel import select

from gridline.clock import as_utc
from gridline.core.conversation import handle_inbound
from gridline.kernel.messages import InboundMessage
from gridline.routing.deadlines import Limit, WorkingCalendar, deadline_after, resolve_deadline
from gridline.routing.supervision import recategorise
from gridline.storage.models import Case
from tests.conftest import base_settings

SHANGHAI = ZoneInfo("Asia/Shanghai")


def water_outage(sid: str) -> InboundMessage:
    text = "俺们楼从昨天就没水了咋弄"
    return InboundMessage(channel="sms", external_id="+8617000010001", text=text, provider_message_id=sid)


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


@pytest.fixture
def settings():
    return base_settings()


def test_three_working_days_skip_the_weekend_but_count_an_adjusted_working_sunday(settings) -> None:
    # Friday 2026-09-18 evening; Sunday 09-20 is a working day (National Day swap), Saturday is not.
    due = resolve_deadline(settings, "water_supply", "normal", local(2026, 9, 18, 18, 0))
    assert due == local(2026, 9, 23, 0, 0)  # Sunday, Monday, Tuesday: the end of Tuesday


def test_three_more_working_days_after_a_deadline_at_24_00_end_three_working_days_later(settings) -> None:
    # A limit that ends at 24:00 of Tuesday 12-08 is stored as 00:00 of Wednesday: 延期 3 working days
    # from it is Wednesday, Thursday, Friday — not Thursday to Monday (Wednesday was counted as its start).
    assert deadline_after(settings, Limit(3, "wd"), local(2026, 12, 9, 0, 0)) == local(2026, 12, 12, 0, 0)
    # From the middle of a day that day does not count, as before.
    assert deadline_after(settings, Limit(3, "wd"), local(2026, 12, 8, 15, 0)) == local(2026, 12, 12, 0, 0)


def test_the_national_day_week_does_not_count_and_its_working_saturday_does(settings) -> None:
    due = resolve_deadline(settings, "water_supply", "normal", local(2026, 9, 30, 10, 0))
    assert due == local(2026, 10, 11, 0, 0)  # Oct 8, Oct 9, and Saturday Oct 10


def test_spring_festival(settings) -> None:
    # Friday 2026-02-13: Saturday 02-14 is an adjusted working day, 02-15 to 02-23 are holidays.
    due = resolve_deadline(settings, "elevator", "normal", local(2026, 2, 13, 9, 0))
    assert due == local(2026, 2, 26, 0, 0)  # Feb 14, Feb 24, Feb 25


def test_disputes_get_thirteen_working_days_and_questions_one(settings) -> None:
    opened = local(2026, 11, 2, 9, 0)  # a Monday with no holiday for weeks
    assert resolve_deadline(settings, "neighbor_dispute", "normal", opened) == local(2026, 11, 20, 0, 0)
    assert resolve_deadline(settings, "policy_inquiry", "normal", opened) == local(2026, 11, 4, 0, 0)


def test_emergencies_run_on_the_clock_through_holidays(settings) -> None:
    opened = local(2026, 10, 1, 22, 0)
    assert resolve_deadline(settings, "emergency", "emergency", opened) == local(2026, 10, 2, 2, 0)
    # an urgent water outage on a holiday: 24 hours, not a working day
    assert resolve_deadline(settings, "water_supply", "urgent", opened) == local(2026, 10, 2, 22, 0)


def test_a_plain_weekday_calendar_can_be_chosen() -> None:
    settings = base_settings(deadlines={"calendar": "weekdays"})
    due = resolve_deadline(settings, "water_supply", "normal", local(2026, 9, 18, 18, 0))
    assert due == local(2026, 9, 24, 0, 0)  # Monday, Tuesday, Wednesday


def test_a_year_without_holiday_data_counts_monday_to_friday() -> None:
    calendar = WorkingCalendar("cn")
    friday = date(2098, 1, 3)
    assert calendar.add_working_days(friday, 1) == date(2098, 1, 6)  # the Monday after
    assert not calendar.is_workday(date(2098, 1, 4))


def test_unknown_categories_fall_back_to_the_priority_hours() -> None:
    settings = base_settings(deadlines={"resolve": {}, "resolve_by_priority": {}})
    opened = local(2026, 11, 2, 9, 0)
    assert resolve_deadline(settings, "noise", "normal", opened) == local(2026, 11, 5, 9, 0)  # 72 h


@pytest.mark.parametrize("bad", ["3 days", "wd", "-1h", "3d"])
def test_a_limit_that_is_not_working_days_or_hours_is_refused_at_start(bad: str) -> None:
    with pytest.raises(ValidationError, match="working days"):
        base_settings(deadlines={"resolve": {"noise": bad}})


async def test_a_new_case_carries_its_working_day_deadline(scenario_services, drain) -> None:
    services = scenario_services
    outcome = await handle_inbound(services, water_outage("SMd1"))
    assert outcome.case_ref
    with services.db.session() as session:
        case = session.exec(select(Case).where(Case.ref == outcome.case_ref)).one()
    assert case.resolve_due_at is not None
    expected = resolve_deadline(services.settings, case.category, case.priority, as_utc(case.created_at))
    assert as_utc(case.resolve_due_at) == expected
    assert as_utc(case.resolve_due_at).astimezone(SHANGHAI).time().hour == 0  # the end of a working day


async def test_recategorising_a_case_gives_it_the_new_categorys_limit(services) -> None:
    outcome = await handle_inbound(services, water_outage("SMd2"))
    with services.db.session() as session:
        case = session.exec(select(Case).where(Case.ref == outcome.case_ref)).one()
    await recategorise(services, case.id, "neighbor_dispute", "console:admin")
    with services.db.session() as session:
        after = session.get(Case, case.id)
        assert after is not None
    expected = resolve_deadline(services.settings, "neighbor_dispute", after.priority, as_utc(after.created_at))
    assert as_utc(after.resolve_due_at) == expected != as_utc(case.resolve_due_at)
