"""Read-only questions staff ask from their phones: my shifts, my open cases."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from gridline.domain.lifecycle import OPEN_CASE_STATUSES
from gridline.kernel.work import Work, in_transaction
from gridline.routing.rota import covered_for, shifts_for_staff
from gridline.storage import cases, directory
from gridline.storage.models import Case, Staff

if TYPE_CHECKING:
    from gridline.kernel.services import Services


Shift = tuple[datetime, datetime, str, str]


async def staff_duty(services: Services, staff_id: int, days: int = 7) -> tuple[list[Shift], dict[Shift, str]]:
    """(start_utc, end_utc, grid_code, role) of the person's duty from now for ``days`` days, and the
    name of whoever a shift is held for (a /cover or a swap in the overrides)."""
    return await in_transaction(services, duty_of_staff, staff_id, days, services.settings.timezone)


def duty_of_staff(work: Work, staff_id: int, days: int, tz: str) -> tuple[list[Shift], dict[Shift, str]]:
    staff = work.session.get(Staff, staff_id)
    if staff is None:
        return [], {}
    shifts = shifts_for_staff(work.session, staff.code, work.now, work.now + timedelta(days=days), tz)
    codes = covered_for(work.session, staff.code, shifts)
    people = directory.staff_by_codes(work.session, sorted(set(codes.values())))
    return shifts, {shift: people[code].name if code in people else code for shift, code in codes.items()}


async def open_cases_for_staff(services: Services, staff_id: int) -> list[Case]:
    """Open cases the person holds or was paged about, newest first."""
    return await in_transaction(services, open_cases_of_staff, staff_id)


def open_cases_of_staff(work: Work, staff_id: int) -> list[Case]:
    return cases.held_or_paged(work.session, staff_id, statuses=[s.value for s in OPEN_CASE_STATUSES], limit=20)
