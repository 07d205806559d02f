"""Who may read and change the household roster: the grid chain, and nobody else.

- admin, and an auditor without a grid: every grid;
- supervisor (and a grid-scoped auditor): their grid's subtree;
- leader: the subtree of the grid their staff record belongs to.
Auditors read masked and change nothing; everyone else who may reveal contacts may reveal a
household's numbers (audited) and edit its tags, consents, helper and notes (audited).
"""

from __future__ import annotations

from sqlmodel import Session

from gridline.console.access import Viewer
from gridline.console.grids import GridTree
from gridline.storage.households import RosterScope
from gridline.storage.models import Staff


def roster_scope(session: Session, viewer: Viewer, tree: GridTree) -> RosterScope:
    if viewer.role == "leader":
        staff = session.get(Staff, viewer.staff_id) if viewer.staff_id is not None else None
        return RosterScope(frozenset(tree.subtree(staff.grid_code)) if staff and staff.grid_code else frozenset())
    if viewer.role == "admin" or viewer.grid_codes is None:
        return RosterScope(None)
    return RosterScope(viewer.grid_codes)


def can_edit_roster(viewer: Viewer) -> bool:
    return viewer.role in ("admin", "supervisor", "leader")
