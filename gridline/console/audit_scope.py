"""Which audit-log entries a console user may read: scoped like every other list.

An admin or an unscoped auditor reads the whole log. A grid-scoped auditor reads the entries about
things inside their grids — cases they may see, those cases' pages and messages, residents and
households of their grids, their grids' staff — and their own actions; other grids' reveals, notes,
exports (with their search terms) and logins stay out of sight.
"""

from __future__ import annotations

from sqlalchemy import String, and_, cast, false, or_
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col, select

from gridline.console.access import Viewer, case_scope, message_scope
from gridline.storage.models import AuditLog, Case, ChannelIdentity, Household, Message, Page, Resident, Staff


def _about(kind: str, ids: object) -> ColumnElement[bool]:
    return and_(col(AuditLog.target_kind) == kind, col(AuditLog.target_id).in_(ids))  # type: ignore[arg-type]


def audit_scope(viewer: Viewer) -> ColumnElement[bool] | None:
    """A WHERE clause on ``AuditLog`` for ``viewer``; None when they may read everything."""
    if viewer.grid_codes is None and viewer.role != "leader":
        return None
    grids = sorted(viewer.grid_codes or ())
    own = col(AuditLog.actor) == viewer.actor
    if not grids:
        return own
    visible_cases = select(Case.id).where(case_scope(viewer))
    residents_here = select(Resident.id).where(col(Resident.grid_code).in_(grids))
    return or_(
        own,
        _about("case", select(cast(Case.id, String)).where(case_scope(viewer))),
        _about("page", select(cast(Page.id, String)).where(col(Page.case_id).in_(visible_cases))),
        _about("message", select(cast(Message.id, String)).where(message_scope(viewer))),
        _about("resident", select(cast(Resident.id, String)).where(col(Resident.id).in_(residents_here))),
        _about("identity", select(cast(ChannelIdentity.id, String)).where(
            col(ChannelIdentity.resident_id).in_(residents_here))),
        _about("household", select(cast(Household.id, String)).where(col(Household.grid_code).in_(grids))),
        _about("staff", select(cast(Staff.id, String)).where(col(Staff.grid_code).in_(grids))),
        _about("staff", select(Staff.code).where(col(Staff.grid_code).in_(grids))),
        false(),
    )
