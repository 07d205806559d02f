"""Who an escalation step notifies: policy target names → people, each with the reason.

Every choice is explained, because supervisors ask "why was she paged at 3 a.m.?".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from gridline.domain.explanations import Reason, why
from gridline.domain.lifecycle import StaffRole
from gridline.routing.grids import GridIndex
from gridline.routing.rota import supervisors_on_duty, who_is_on_duty
from gridline.storage import directory_cache
from gridline.storage.models import Case, Staff


@dataclass(frozen=True)
class Target:
    staff: Staff
    reason: str  # the policy target that chose this person
    explanation: dict[str, Any]  # why (gridline.domain.explanations.why), rendered where it is read


def _staff_with_role(session: Session, role: StaffRole, grid_code: str | None) -> list[Staff]:
    return directory_cache.active_staff_with_role(session, role.value, grid_code)


def _ancestor_of_level(index: GridIndex, grid_code: str, level: int) -> str | None:
    for grid in [g for g in [index.get(grid_code)] if g is not None] + index.ancestors(grid_code):
        if grid.level == level:
            return grid.code
    return None


def resolve_targets(session: Session, index: GridIndex, case: Case, target: str, at: datetime, tz: str) -> list[Target]:
    """The people ``target`` means for ``case`` at time ``at``; may be empty (nobody on duty)."""
    grid = case.grid_code
    if target in ("on_duty_leader", "backup"):
        if grid is None:
            return []
        role = "primary" if target == "on_duty_leader" else "backup"
        people = who_is_on_duty(session, grid, at, tz, role=role)
        code = Reason.ON_DUTY if role == "primary" else Reason.BACKUP_ON_DUTY
        # The moment in the grid's own time: the explanation reads "值班 at 22:00", not a UTC stamp.
        moment = at.astimezone(ZoneInfo(tz)).isoformat(timespec="minutes")
        return [Target(p, target, why(code, grid=grid, at=moment)) for p in people]
    if target == "leader":
        if grid is None:
            return []
        leaders = _staff_with_role(session, StaffRole.LEADER, grid)
        return [Target(p, target, why(Reason.GRID_LEADER, grid=grid)) for p in leaders]
    if target in ("level2_contact", "level1_contact"):
        if grid is None:
            return []
        level = 2 if target == "level2_contact" else 1
        role = StaffRole.LEVEL2_CONTACT if level == 2 else StaffRole.LEVEL1_CONTACT
        parent = _ancestor_of_level(index, grid, level)
        if parent is None:
            return []
        return [
            Target(p, target, why(Reason.LEVEL_CONTACT, level=level, grid=parent))
            for p in _staff_with_role(session, role, parent)
        ]
    if target == "department":
        people = _department_staff(session, index, case)
        return [Target(p, target, why(Reason.DEPARTMENT_FOR, category=case.category)) for p in people]
    if target == "supervisors":
        chain = [g.code for g in index.chain(grid)] if grid else []
        people = supervisors_on_duty(session, chain, at, tz)
        reason = why(Reason.SUPERVISOR_ON_DUTY, grid=grid) if grid else why(Reason.SUPERVISOR_TRIAGE)
        return [Target(p, target, reason) for p in people]
    raise ValueError(f"unknown escalation target {target!r}")


def _department_staff(session: Session, index: GridIndex, case: Case) -> list[Staff]:
    """Department staff handling the category: those attached to the grid's chain first, then district-wide."""
    handling = [
        p for p in _staff_with_role(session, StaffRole.DEPARTMENT, None) if case.category in (p.categories or [])
    ]
    chain = [g.code for g in index.chain(case.grid_code)] if case.grid_code else []
    rank = {code: i for i, code in enumerate(chain)}
    local = sorted((p for p in handling if p.grid_code in rank), key=lambda p: rank[p.grid_code or ""])
    return local + [p for p in handling if not p.grid_code]
