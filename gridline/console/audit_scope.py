"""Which audit-log entries a console user may read: scoped like every other list.

An admin or an unscoped auditor reads the whole log. A grid-scoped auditor reads the entries about
things inside their grids — cases they may see, those cases' pages and messages, residents and
households of their grids, their grids' staff — and their own actions; other grids' reveals, notes,
exports (with their search terms) and logins stay out of sight.
"""

from __future__ import annotations

from sqlalchemy.sql.elements import ColumnElement

from gridline.console.access import Viewer
from gridline.storage import scopes


def audit_scope(viewer: Viewer) -> ColumnElement[bool] | None:
    """A WHERE clause on ``AuditLog`` for ``viewer``; None when they may read everything."""
    return scopes.audit_scope(viewer.reach, viewer.actor)
