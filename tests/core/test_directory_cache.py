"""The directory and rota each process keeps in memory (``storage.directory_cache``) never page
someone who went off duty: a change committed by another process — through the ORM, or by a plain
SQL statement that knows nothing of the cache — is seen by the very next report."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, text
from sqlmodel import select

from gridline.composition import build_services
from gridline.core.conversation import handle_inbound
from gridline.kernel.messages import InboundMessage
from gridline.kernel.services import Services
from gridline.kernel.work import Work, in_transaction
from gridline.routing.rota import who_is_on_duty
from gridline.storage import directory_cache
from gridline.storage.models import ContactMethod, DutyOverride, Page, Staff
from tests.conftest import MakeServices, base_settings
from tests.core.support import record_all_channels

GRID = "ZY01-01-1"
RESIDENTS = ("+8617000010001", "+8617000010002")  # both in GRID
# With the window at 0 a report joins only a case opened in the same instant: the tests move the clock.
NO_DUPLICATES = {"cases": {"duplicate_window_minutes": 0}}


@pytest.fixture(params=["sqlite", "postgres"])
async def two_processes(request: pytest.FixtureRequest, make_services: MakeServices, clock) -> AsyncIterator[
        tuple[Services, Services]]:
    """Two services on one database, each with its own engine and so its own cache (two processes)."""
    first = await make_services(request.param, **NO_DUPLICATES)
    second = build_services(base_settings(database={"url": first.settings.database.url}, **NO_DUPLICATES), clock)
    try:
        yield first, second
    finally:
        await second.aclose()


def on_duty(work: Work, tz: str, role: str = "primary") -> list[str]:
    return [s.code for s in who_is_on_duty(work.session, GRID, work.now, tz, role=role)]


async def report(services: Services, drain, sender: str) -> list[str]:
    """A resident reports; returns the codes of the staff the new case's first step paged."""
    msg = InboundMessage(channel="sms", external_id=sender, text="小区门口的路灯不亮了")
    outcome = await handle_inbound(services, msg)
    await drain(services)
    with services.db.session() as session:
        paged = session.exec(select(Staff.code).join(Page, Page.staff_id == Staff.id).where(
            Page.case_id == select_case_id(session, outcome.case_ref), Page.step_index == 0)).all()
    return list(paged)


def select_case_id(session, ref: str | None) -> int:
    from gridline.storage.models import Case

    return session.exec(select(Case.id).where(Case.ref == ref)).one()


async def test_an_override_written_by_another_process_is_seen_by_the_next_report(two_processes, drain, clock):
    worker, console = two_processes
    record_all_channels(worker)
    tz = worker.settings.timezone
    [leader] = await in_transaction(worker, on_duty, tz)
    [backup] = await in_transaction(worker, on_duty, tz, "backup")
    assert await report(worker, drain, RESIDENTS[0]) == [leader]  # the worker's cache is warm now

    def swap(work: Work) -> None:  # the console, in its own process: the backup takes the leader's place
        work.session.add(DutyOverride(grid_code=GRID, role="primary", kind="swap", staff_code=backup,
                                      replaces_staff_code=leader, starts_at=work.now - timedelta(minutes=1),
                                      ends_at=work.now + timedelta(hours=2), reason="sick"))

    await in_transaction(console, swap)
    clock.advance(minutes=1)
    assert await report(worker, drain, RESIDENTS[1]) == [backup]


async def test_a_plain_sql_change_outside_gridline_is_seen_too(two_processes, drain, clock):
    worker, _ = two_processes
    record_all_channels(worker)
    tz = worker.settings.timezone
    [leader] = await in_transaction(worker, on_duty, tz)
    assert await report(worker, drain, RESIDENTS[0]) == [leader]
    # An operator deactivates the leader by hand (psql / sqlite3): the trigger changes the token.
    engine = create_engine(worker.settings.database.url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as connection:
        connection.execute(text("UPDATE staff SET active = :off WHERE code = :code"), {"off": False, "code": leader})
    engine.dispose()
    clock.advance(minutes=1)
    assert leader not in await report(worker, drain, RESIDENTS[1])


async def test_a_contact_method_marked_unreachable_elsewhere_is_skipped_next_time(two_processes, drain, clock):
    worker, console = two_processes
    record_all_channels(worker)
    [leader] = await in_transaction(worker, on_duty, worker.settings.timezone)

    def methods(work: Work) -> list[tuple[int, str]]:
        staff = work.session.exec(select(Staff).where(Staff.code == leader)).one()
        return [(m.id or 0, m.channel) for m in directory_cache.contact_methods(work.session, staff.id or 0)]

    first_id, _ = (await in_transaction(worker, methods))[0]

    def unreachable(work: Work) -> None:
        method = work.session.get(ContactMethod, first_id)
        assert method is not None
        method.unreachable = True

    await in_transaction(console, unreachable)

    def first_reachable(work: Work) -> int | None:
        from gridline.routing.pages import next_contact_method

        staff = work.session.exec(select(Staff).where(Staff.code == leader)).one()
        method = next_contact_method(work.session, staff)
        return method.id if method else None

    assert await in_transaction(worker, first_reachable) != first_id


async def test_a_unit_of_work_sees_its_own_uncommitted_rota_change(services):
    tz = services.settings.timezone
    [leader] = await in_transaction(services, on_duty, tz)
    assert await in_transaction(services, on_duty, tz) == [leader]  # cached now

    def leave_then_ask(work: Work) -> list[str]:
        work.session.add(DutyOverride(grid_code=GRID, role="primary", kind="leave", staff_code=leader,
                                      starts_at=work.now - timedelta(minutes=1), ends_at=work.now + timedelta(hours=1)))
        return on_duty(work, tz)

    assert leader not in await in_transaction(services, leave_then_ask)
    assert leader not in await in_transaction(services, on_duty, tz)  # and, committed, everyone else


async def test_a_rolled_back_change_leaves_the_cache_as_it_was(services):
    tz = services.settings.timezone
    [leader] = await in_transaction(services, on_duty, tz)

    def leave_then_fail(work: Work) -> None:
        work.session.add(DutyOverride(grid_code=GRID, role="primary", kind="leave", staff_code=leader,
                                      starts_at=work.now - timedelta(minutes=1), ends_at=work.now + timedelta(hours=1)))
        work.session.flush()
        assert leader not in on_duty(work, tz)
        raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        await in_transaction(services, leave_then_fail)
    assert await in_transaction(services, on_duty, tz) == [leader]
