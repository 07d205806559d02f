"""What a console user may see, as WHERE clauses: the one rule every list, search, page and export applies.

The console decides who a viewer is (``console.access.Viewer``) and hands its :class:`Reach` here, in
plain values; this module turns it into clauses on ``Case``, ``Message`` and ``AuditLog`` that the
other stores take as ``scope=``.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import String, and_, cast, exists, false, or_, true
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col, select

from gridline.storage.models import AuditLog, Case, ChannelIdentity, Household, Message, Page, Resident, Staff


@dataclass(frozen=True)
class Reach:
    """The part of the city a console user may see."""

    # Grid codes they may see; None = every grid and the triage queue (cases without a grid).
    grid_codes: frozenset[str] | None
    # Their staff record, if they have one.
    staff_id: int | None = None
    # A leader: only the cases they hold, acknowledged, resolved or were paged about.
    own_cases_only: bool = False
    # A supervisor with a staff record: also the triage cases they were paged about.
    paged_triage: bool = False

    @property
    def everything(self) -> bool:
        return not self.own_cases_only and self.grid_codes is None


def _paged(staff_id: int) -> ColumnElement[bool]:
    return exists(select(Page.id).where(Page.case_id == Case.id, Page.staff_id == staff_id))


def case_scope(reach: Reach) -> ColumnElement[bool]:
    """A WHERE clause on ``Case`` limiting it to ``reach``."""
    if reach.own_cases_only:
        sid = reach.staff_id
        if sid is None:
            return false()
        return or_(
            col(Case.assignee_staff_id) == sid,
            col(Case.acknowledged_by) == sid,
            col(Case.resolved_by) == sid,
            _paged(sid),
        )
    if reach.grid_codes is None:
        return true()
    in_grids = col(Case.grid_code).in_(sorted(reach.grid_codes)) if reach.grid_codes else false()
    if reach.paged_triage and reach.staff_id is not None:
        # Triage cases have no grid to scope them by; the supervisors paged about them must see them.
        return or_(in_grids, and_(col(Case.grid_code).is_(None), _paged(reach.staff_id)))
    return in_grids


def message_scope(reach: Reach) -> ColumnElement[bool]:
    """A WHERE clause on ``Message``: messages of visible cases, and for grid-scoped users also the
    case-less messages (registration, questions) of residents registered in their grids."""
    if reach.everything:
        return true()
    of_visible_case = col(Message.case_id).in_(select(Case.id).where(case_scope(reach)))
    if reach.own_cases_only or not reach.grid_codes:
        return of_visible_case
    residents_here = select(Resident.id).where(col(Resident.grid_code).in_(sorted(reach.grid_codes)))
    return or_(
        of_visible_case,
        and_(col(Message.case_id).is_(None), col(Message.resident_id).in_(residents_here)),
    )


def _about(kind: str, ids: object) -> ColumnElement[bool]:
    return and_(col(AuditLog.target_kind) == kind, col(AuditLog.target_id).in_(ids))  # type: ignore[arg-type]


def audit_scope(reach: Reach, actor: str) -> ColumnElement[bool] | None:
    """A WHERE clause on ``AuditLog``: entries about things within ``reach`` and those by ``actor``
    (the viewer's own actions); None when they may read everything."""
    if reach.everything:
        return None
    grids = sorted(reach.grid_codes or ())
    own = col(AuditLog.actor) == actor
    if not grids:
        return own
    visible_cases = select(Case.id).where(case_scope(reach))
    residents_here = select(Resident.id).where(col(Resident.grid_code).in_(grids))
    return or_(
        own,
        _about("case", select(cast(Case.id, String)).where(case_scope(reach))),
        _about("page", select(cast(Page.id, String)).where(col(Page.case_id).in_(visible_cases))),
        _about("message", select(cast(Message.id, String)).where(message_scope(reach))),
        _about("resident", select(cast(Resident.id, String)).where(col(Resident.id).in_(residents_here))),
        _about("identity", select(cast(ChannelIdentity.id, String)).where(
            col(ChannelIdentity.resident_id).in_(residents_here))),
        _about("household", select(cast(Household.id, String)).where(col(Household.grid_code).in_(grids))),
        _about("staff", select(cast(Staff.id, String)).where(col(Staff.grid_code).in_(grids))),
        _about("staff", select(Staff.code).where(col(Staff.grid_code).in_(grids))),
        false(),
    )
