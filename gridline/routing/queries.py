"""Read-only questions staff ask from their phones: my shifts, my open cases."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlmodel import col, or_, select

from gridline.routing.lifecycle import OPEN_CASE_STATUSES
from gridline.routing.rota import shifts_for_staff
from gridline.storage.models import Case, Page, Staff

if TYPE_CHECKING:
    from gridline.core.services import Services


def staff_shifts(services: Services, staff_id: int, days: int = 7) -> list[tuple[datetime, datetime, str, str]]:
    """(start_utc, end_utc, grid_code, role) of the person's duty from now for ``days`` days."""
    now = services.clock.now()
    with services.db.session() as session:
        staff = session.get(Staff, staff_id)
        if staff is None:
            return []
        return shifts_for_staff(session, staff.code, now, now + timedelta(days=days), services.settings.timezone)


def open_cases_for_staff(services: Services, staff_id: int) -> list[Case]:
    """Open cases the person holds or was paged about, newest first."""
    with services.db.session() as session:
        paged = select(Page.case_id).where(Page.staff_id == staff_id)
        return list(
            session.exec(
                select(Case)
                .where(
                    col(Case.status).in_([s.value for s in OPEN_CASE_STATUSES]),
                    or_(col(Case.assignee_staff_id) == staff_id, col(Case.id).in_(paged)),
                )
                .order_by(col(Case.created_at).desc())
                .limit(20)
            )
        )
