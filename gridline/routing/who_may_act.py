"""Who may act on a case (the holders' rule of every staff action): the people paged about it —
unless they passed it on since — the grid's own leader, or someone above in the grid's chain; and
whom a case may be handed to (转交)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gridline.domain.lifecycle import StaffRole
from gridline.kernel.work import Work
from gridline.routing.directory import Directory
from gridline.routing.duty import reassignment_candidates
from gridline.storage import case_events, pages
from gridline.storage.models import Case, Staff

if TYPE_CHECKING:
    from gridline.kernel.services import Services

CHAIN_ROLES = {StaffRole.LEVEL2_CONTACT.value, StaffRole.LEVEL1_CONTACT.value, StaffRole.SUPERVISOR.value}


def may_act(services: Services, work: Work, case: Case, staff: Staff) -> bool:
    """The paged person (unless they passed the case on since), the grid's own leader, or someone
    above in the grid's chain."""
    if not staff.active:
        return False
    if pages.was_paged(work.session, case.id or 0, staff.id or 0) and not passed_on(work, case, staff):
        return True
    if case.grid_code is None:
        return staff.role == StaffRole.SUPERVISOR.value
    if staff.role == StaffRole.LEADER.value and staff.grid_code == case.grid_code:
        return True
    if staff.role in CHAIN_ROLES:
        index = Directory.for_services(services).grid_index(work.session)
        chain = [g.code for g in index.chain(case.grid_code)]
        return staff.grid_code is None or staff.grid_code in chain
    return False


def may_take(services: Services, work: Work, case: Case, target: Staff, handing_over: Staff) -> bool:
    """Whether ``target`` is one of the people a channel offers for 转交 (``routing.duty``): a signed
    button or a form names only them, and no other channel may hand a case further afield."""
    index = Directory.for_services(services).grid_index(work.session)
    offered = reassignment_candidates(
        work.session, services.settings, index, case, work.now, handing_over=handing_over
    )
    return any(person.id == target.id for person in offered)


def passed_on(work: Work, case: Case, staff: Staff) -> bool:
    """Whether ``staff`` handed the case to someone else (转交) and has not been paged about it since:
    their old page no longer lets them take it back, escalate it or speak for it."""
    if case.assignee_staff_id in (None, staff.id):
        return False
    handed = case_events.latest_event(work.session, case.id or 0, "reassigned")
    if handed is None or handed.actor != f"staff:{staff.code}":
        return False
    newest = pages.latest_for_staff(work.session, case.id or 0, staff.id or 0)
    return newest is None or newest.created_at <= handed.at
