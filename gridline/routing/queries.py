"""Read-only questions staff ask from their phones: my shifts, my open cases."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from gridline.domain.lifecycle import OPEN_CASE_STATUSES
from gridline.kernel.work import Work, in_transaction
from gridline.routing.rota import covered_for, handed_over, shifts_for_staff
from gridline.storage import cases, directory
from gridline.storage.models import Case, Staff

if TYPE_CHECKING:
    from gridline.kernel.services import Services


Shift = tuple[datetime, datetime, str, str]


@dataclass(frozen=True)
class Duty:
    """A person's duty for ``/duty``: their shifts, whose place they hold in some (a /cover or a
    swap: shift → that person's name), and their own shifts someone else holds (shift → name)."""

    shifts: list[Shift]
    held_for: dict[Shift, str]
    handed_to: dict[Shift, str]


async def staff_duty(services: Services, staff_id: int, days: int = 7) -> Duty:
    """The person's :class:`Duty` from now for ``days`` days (start_utc, end_utc, grid_code, role)."""
    return await in_transaction(services, duty_of_staff, staff_id, days, services.settings.timezone)


def duty_of_staff(work: Work, staff_id: int, days: int, tz: str) -> Duty:
    staff = work.session.get(Staff, staff_id)
    if staff is None:
        return Duty([], {}, {})
    start, end = work.now, work.now + timedelta(days=days)
    shifts = shifts_for_staff(work.session, staff.code, start, end, tz)
    held = covered_for(work.session, staff.code, shifts)
    handed = dict(handed_over(work.session, staff.code, start, end, tz))
    people = directory.staff_by_codes(work.session, sorted({*held.values(), *handed.values()}))

    def name(code: str) -> str:
        return people[code].name if code in people else code

    return Duty(shifts, {s: name(c) for s, c in held.items()}, {s: name(c) for s, c in handed.items()})


async def open_cases_for_staff(services: Services, staff_id: int) -> list[Case]:
    """Open cases the person holds or was paged about, newest first."""
    return await in_transaction(services, open_cases_of_staff, staff_id)


def open_cases_of_staff(work: Work, staff_id: int) -> list[Case]:
    return cases.held_or_paged(work.session, staff_id, statuses=[s.value for s in OPEN_CASE_STATUSES], limit=20)
