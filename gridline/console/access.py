"""Who may see and do what in the console.

Every query of cases or messages goes through :func:`case_scope` / :func:`message_scope`, so a list, a
search, a case page, an export and the live feed all apply the same rule:

- admin: everything, triage cases (no grid) included;
- supervisor: cases of their grid's subtree only;
- leader: only their own cases — assigned to, acknowledged or resolved by, or paged to their staff record;
- auditor: reads (everything, or their grid's subtree when given one) but changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from gridline.console.grids import GridTree
from gridline.storage import cases, directory, scopes
from gridline.storage.models import Case, ConsoleUser


@dataclass
class Viewer:
    """A logged-in console user and the part of the city they may see."""

    user: ConsoleUser
    # Grid codes the user may see; None = every grid and the triage queue.
    grid_codes: frozenset[str] | None
    # The staff record of a leader (None for other roles, or a leader whose staff code is unknown).
    staff_id: int | None = None

    @property
    def role(self) -> str:
        return self.user.role

    @property
    def name(self) -> str:
        return self.user.name

    @property
    def actor(self) -> str:
        """How the audit log and the case timeline name this user."""
        return f"console:{self.user.name}"

    @property
    def can_manage_cases(self) -> bool:
        """Re-categorise, reassign, merge, close, correct NLU labels."""
        return self.role in ("admin", "supervisor")

    @property
    def can_add_notes(self) -> bool:
        return self.role in ("admin", "supervisor", "leader")

    @property
    def can_reveal_contacts(self) -> bool:
        # Auditors check what was done; they have no need for residents' numbers.
        return self.role in ("admin", "supervisor", "leader")

    @property
    def can_read_audit_log(self) -> bool:
        return self.role in ("admin", "auditor")

    @property
    def can_manage_users(self) -> bool:
        return self.role == "admin"

    @property
    def sees_everything(self) -> bool:
        return self.role != "leader" and self.grid_codes is None

    @property
    def reach(self) -> scopes.Reach:
        """What the viewer may see, as the stores take it."""
        return scopes.Reach(
            grid_codes=self.grid_codes,
            staff_id=self.staff_id,
            own_cases_only=self.role == "leader",
            paged_triage=self.role == "supervisor",
        )


def load_viewer(session: Session, user: ConsoleUser, tree: GridTree) -> Viewer:
    """The viewer for ``user``: a supervisor's (or scoped auditor's) grid subtree, a leader's staff id."""
    staff_id: int | None = None
    grid_codes: frozenset[str] | None = None
    if user.role == "leader":
        if user.staff_code:
            staff = directory.staff_by_code(session, user.staff_code)
            staff_id = staff.id if staff else None
        grid_codes = frozenset()
    elif user.role == "supervisor" or (user.role == "auditor" and user.grid_code):
        # A supervisor without a (known) grid sees nothing rather than everything.
        grid_codes = frozenset(tree.subtree(user.grid_code)) if user.grid_code else frozenset()
        if user.role == "supervisor" and user.staff_code:
            # Linked to a staff record: the triage cases that person was paged about are theirs too.
            staff = directory.staff_by_code(session, user.staff_code)
            staff_id = staff.id if staff else None
    return Viewer(user=user, grid_codes=grid_codes, staff_id=staff_id)


def case_scope(viewer: Viewer) -> ColumnElement[bool]:
    """A WHERE clause on ``Case`` limiting it to what ``viewer`` may see."""
    return scopes.case_scope(viewer.reach)


def message_scope(viewer: Viewer) -> ColumnElement[bool]:
    """A WHERE clause on ``Message``: messages of visible cases, and for grid-scoped users also the
    case-less messages (registration, questions) of residents registered in their grids."""
    return scopes.message_scope(viewer.reach)


def can_see_case(session: Session, viewer: Viewer, case_id: int) -> Case | None:
    """The case if ``viewer`` may see it; None otherwise (callers answer 404, not 403, so that
    nobody learns which references exist in other grids)."""
    return cases.visible(session, case_id, scope=case_scope(viewer))


def can_see_event(viewer: Viewer, event: dict[str, Any], session: Session | None = None) -> bool:
    """Whether a live ``cases`` event may be sent to ``viewer``."""
    if viewer.sees_everything:
        return True
    if viewer.role == "leader":
        case_id = event.get("case_id")
        if session is None or not isinstance(case_id, int):
            return False
        return can_see_case(session, viewer, case_id) is not None
    grid = event.get("grid_code")
    if grid is None and viewer.role == "supervisor" and viewer.staff_id is not None:
        case_id = event.get("case_id")
        if session is None or not isinstance(case_id, int):
            return False
        return can_see_case(session, viewer, case_id) is not None
    return bool(viewer.grid_codes) and grid in (viewer.grid_codes or ())
