"""Visits as obligations, below the channels: cadence, the state machine, the timer, escalation."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from gridline.composition import build_services
from gridline.domain.lifecycle import ForbiddenTransition
from gridline.kernel.work import in_transaction
from gridline.routing.visits import (
    VISIT_TRANSITIONS,
    VisitReport,
    VisitStatus,
    check_visit_transition,
    log_visit,
    next_due,
    run_visit_timer,
    schedule_visit,
)
from gridline.settings import Settings
from gridline.storage.models import Household
from tests.core.support import record_all_channels
from tests.visits.support import ALONE, VISITS_ON, all_visits, events_of, household, open_visit, staff

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_the_strictest_cadence_among_the_tags_wins(clock):
    settings = Settings()
    anchor = clock.now()
    weekly, rule = next_due(settings, ["elderly_alone", "hardship"], anchor) or (None, None)
    assert rule == "elderly_alone"
    assert weekly is not None
    local = weekly.astimezone(SHANGHAI)
    assert (local.date() - anchor.astimezone(SHANGHAI).date()).days == 7 and local.strftime("%H:%M") == "20:00"
    monthly, rule = next_due(settings, ["hardship"], anchor) or (None, None)
    assert rule == "hardship" and monthly is not None and monthly > weekly
    quarterly, rule = next_due(settings, [], anchor) or (None, None)
    assert rule == "default" and quarterly is not None and quarterly - anchor > timedelta(days=85)


def test_a_cadence_may_be_keyed_by_the_tags_label(clock):
    settings = Settings(visits={"cadence": {"困难户": "FREQ=DAILY", "default": "FREQ=YEARLY"}})
    due, rule = next_due(settings, ["hardship"], clock.now()) or (None, None)
    assert rule == "hardship" and due is not None and due - clock.now() < timedelta(days=2)


def test_a_bad_rule_is_refused_with_its_key():
    with pytest.raises(ValueError, match=r"visits\.cadence\.elderly_alone"):
        Settings(visits={"cadence": {"elderly_alone": "EVERY TUESDAY"}})


def test_forbidden_visit_transitions_are_refused():
    for current in VisitStatus:
        for wanted in VisitStatus:
            if wanted in VISIT_TRANSITIONS[current]:
                assert check_visit_transition(current, wanted) == wanted
            else:
                with pytest.raises(ForbiddenTransition):
                    check_visit_transition(current, wanted)
    with pytest.raises(ForbiddenTransition):
        check_visit_transition("done", "missed")


def test_transition_refuses_staying_done_and_changes_nothing(clock):
    from types import SimpleNamespace

    from gridline.kernel.work import Work
    from gridline.routing.visits import transition

    visit = SimpleNamespace(id=1, status="done", done_at=clock.now(), updated_at=clock.now(), next_at=None,
                            missed_at=None, escalated_at=None)  # fmt: skip
    work = Work(session=None, now=clock.now() + timedelta(hours=1))  # type: ignore[arg-type]
    with pytest.raises(ForbiddenTransition, match="visit cannot go from 'done' to 'done'"):
        transition(work, visit, VisitStatus.DONE)  # type: ignore[arg-type]
    assert (visit.status, visit.updated_at) == ("done", clock.now())


async def test_the_reconciler_plans_one_visit_per_household(make_services, drain):
    services = await make_services(visits=VISITS_ON)
    record_all_channels(services)
    await drain(services)
    visits = all_visits(services)
    with services.db.session() as session:
        from gridline.storage.households import total

        assert len(visits) == total(session) > 0
    await drain(services)
    assert len(all_visits(services)) == len(visits)  # planned once
    alone = open_visit(services, ALONE)
    assert alone.rule == "elderly_alone" and alone.status == "due"
    members = {staff(services, "MBR-ZY01-01-1").id, staff(services, "MBR2-ZY01-01-1").id}
    assert alone.staff_id in members


async def test_schedule_visit_brings_an_owed_visit_forward_and_never_doubles_it(make_services, drain, clock):
    services = await make_services(visits=VISITS_ON)
    record_all_channels(services)
    await drain(services)
    before = open_visit(services, ALONE)
    hid = household(services, ALONE).id
    today = clock.now() + timedelta(hours=2)
    visit = await in_transaction(services, lambda work: schedule_visit(work, hid, today, "checkin_silence"))
    assert visit is not None and visit.id == before.id
    after = open_visit(services, ALONE)
    assert after.due_at == today and after.reason == "checkin_silence"
    later = clock.now() + timedelta(days=30)
    await in_transaction(services, lambda work: schedule_visit(work, hid, later, "sweep"))
    assert open_visit(services, ALONE).due_at == today  # never pushed back
    assert [e.kind for e in events_of(services, before.id)] == ["scheduled", "brought_forward"]


async def test_a_missed_visit_goes_member_then_leader_then_level_two(make_services, drain, clock):
    services = await make_services(visits=VISITS_ON)
    record_all_channels(services)
    await drain(services)
    visit = open_visit(services, ALONE)
    clock.set(visit.due_at + timedelta(minutes=1))
    await drain(services)
    missed = open_visit(services, ALONE)
    assert missed.status == "missed" and missed.step == 1
    clock.advance(hours=24)
    await drain(services)
    assert open_visit(services, ALONE).status == "escalated"
    clock.advance(hours=24)
    await drain(services)
    kinds = [(e.kind, [p["staff"] for p in e.data.get("people", [])]) for e in events_of(services, visit.id)]
    assert kinds[1][0] == "missed" and kinds[1][1][0].startswith("MBR")
    assert kinds[2] == ("escalated", ["LDR-ZY01-01-1"])
    assert kinds[3] == ("escalated", ["L2-ZY01-01"])
    assert kinds[4][0] == "escalation_exhausted"


async def test_a_problem_logged_opens_a_proactive_case_and_plans_the_next_visit(make_services, drain):
    services = await make_services(visits=VISITS_ON)
    record_all_channels(services)
    await drain(services)
    visit = open_visit(services, ALONE)
    report = VisitReport(outcome="problem", note="楼道灯坏了", visit_id=visit.id, channel="sms")
    result = await in_transaction(
        services, log_visit, services.settings, report, staff_id=visit.staff_id
    )
    assert result.ok and result.case_ref
    done = next(v for v in all_visits(services) if v.id == visit.id)
    assert done.status == "done" and done.outcome == "problem" and done.case_id
    nxt = open_visit(services, ALONE)
    assert nxt.id != visit.id and nxt.due_at > done.done_at
    from tests.visits.support import case

    found = case(services, done.case_id)
    assert found.proactive and found.grid_code == "ZY01-01-1" and "1-1-101" in (found.address_text or "")


async def test_a_timer_runs_once_however_many_jobs_ask(make_services, drain, clock):
    services = await make_services(visits=VISITS_ON)
    record_all_channels(services)
    await drain(services)
    visit = open_visit(services, ALONE)
    clock.set(visit.due_at + timedelta(minutes=5))
    first, second = await run_visit_timer(services, visit.id), await run_visit_timer(services, visit.id)
    assert first.startswith("missed") and second == "not claimed"
    assert [e.kind for e in events_of(services, visit.id)] == ["scheduled", "missed"]


async def test_after_a_restart_an_overdue_visit_of_any_age_runs_its_step_once(make_services, drain, clock):
    services = await make_services(visits=VISITS_ON)
    record_all_channels(services)
    await drain(services)  # planned; the in-process queue holds the deadlines' jobs
    visit = open_visit(services, ALONE)
    # The process stops; a new one starts on the same database three days after the deadline.
    restarted = build_services(services.settings, clock)
    record_all_channels(restarted)
    try:
        clock.set(visit.due_at + timedelta(days=3))
        await drain(restarted)
        await drain(restarted)
        late = open_visit(restarted, ALONE)
        assert late.status == "missed" and late.step == 1  # step 1 once, not every step it slept through
        kinds = [e.kind for e in events_of(restarted, visit.id)]
        assert kinds == ["scheduled", "missed"]
        assert late.next_at is not None and late.next_at > clock.now()  # the leader after the member's day
    finally:
        await restarted.aclose()


async def test_a_household_that_left_the_roster_drops_out_of_the_lists_and_its_visit_is_cancelled(
    make_services, drain, clock
):
    services = await make_services(visits=VISITS_ON)
    notifiers = record_all_channels(services)
    await drain(services)
    visit = open_visit(services, ALONE)
    clock.set(visit.due_at - timedelta(days=1))
    owner = visit.staff_id
    assert any(v.id == visit.id for v, _ in await in_transaction(services, _owed, owner))
    with services.db.session() as session:
        row = session.get(Household, visit.household_id)
        row.removed_at = clock.now()
        session.add(row)
    assert not any(v.id == visit.id for v, _ in await in_transaction(services, _owed, owner))
    clock.set(visit.due_at + timedelta(minutes=1))
    await drain(services)
    kinds = [e.kind for e in events_of(services, visit.id)]
    assert kinds == ["scheduled", "cancelled"]
    assert not [m for n in notifiers.values() for m in n.messages if "走访逾期" in m.text and ALONE in m.text]


def _owed(work, staff_id):
    from gridline.storage import visits as store

    return store.owed_by_staff(work.session, staff_id, until=work.now + timedelta(days=3))
