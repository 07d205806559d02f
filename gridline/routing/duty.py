"""Who, for every channel: the domain rules a channel must not make up for itself.

Telegram, the SMS hotline, the voice hotline and the console all ask the same questions — whom a
call is put through to, whom a case may be handed to — and get their answer here, so that "the
leader on duty now" means the same person on every channel as it does for paging
(``routing.targets``: the first step's ``on_duty_leader``, then its ``backup``).
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from gridline.domain.lifecycle import StaffRole
from gridline.routing.grids import GridIndex
from gridline.routing.rota import who_is_on_duty
from gridline.routing.targets import resolve_targets
from gridline.settings import Settings
from gridline.storage import directory
from gridline.storage import transfers as transfer_store
from gridline.storage.models import Case, Staff

# The rota roles a hotline call tries, in order: the same as paging's on_duty_leader, then backup.
PUT_THROUGH_ROLES = ("primary", "backup")


def leader_to_put_through(session: Session, grid_code: str, at: datetime, tz: str) -> Staff | None:
    """Whom a resident's call to the hotline is put through to: the grid's leader on duty at ``at``
    (primary, else backup) who has a phone; None when nobody on duty can take a call."""
    for role in PUT_THROUGH_ROLES:
        for staff in who_is_on_duty(session, grid_code, at, tz, role=role):
            if staff.phone:
                return staff
    return None


def departments_for(session: Session, settings: Settings, index: GridIndex, case: Case, at: datetime) -> list[str]:
    """The departments a case of this category can go to: the configured one first, then those whose
    staff handle the category (attached to the case's grid chain first, then district-wide)."""
    names: list[str] = []
    preferred = settings.departments.by_category.get(case.category)
    if preferred and transfer_store.department_staff(session, preferred):
        names.append(preferred)
    for target in resolve_targets(session, index, case, "department", at, settings.timezone):
        name = target.staff.department
        if name and name not in names:
            names.append(name)
    return names


def reassignment_candidates(
    session: Session, settings: Settings, index: GridIndex, case: Case, at: datetime,
    *, handing_over: Staff | None = None,
) -> list[Staff]:
    """Whom ``case`` may be handed to (转交), from any channel: the people who can take it — the active
    people of its grid first (its leaders and members), then the contacts and supervisors of the grids
    above it (its escalation chain), then the staff of the departments its category goes to (the same
    departments as 转办, :func:`departments_for`); for a case without a grid, supervisors and those
    departments. Not other grids' leaders, not departments of other categories, never the person
    handing it over."""
    chain = [g.code for g in index.chain(case.grid_code)] if case.grid_code else []
    people = directory.reassignable_staff(session, chain, departments_for(session, settings, index, case, at))
    own = case.grid_code

    def rank(staff: Staff) -> tuple[int, int, str]:
        if own is not None and staff.grid_code == own:
            first = 0
        elif staff.role == StaffRole.DEPARTMENT:
            first = 2
        else:
            first = 1
        role_order = 0 if staff.role in (StaffRole.LEADER, StaffRole.MEMBER) else 1
        return first, role_order, staff.name

    others = [s for s in people if handing_over is None or s.id != handing_over.id]
    return sorted(others, key=rank)
