"""Who reported a case, and the cases a resident reported: who opened it, and each resident whose
report of the same problem joined it (a ``reported_again`` entry on its timeline with their id,
``routing.cases.join_case``). Everyone who reported a case hears its news (``kernel.outbox.tell_reporters``)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import and_, bindparam, exists, func, union_all
from sqlalchemy import select as sa_select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, or_, select

from gridline.domain.case_events import CaseEventKind
from gridline.storage.models import Case, CaseEvent, Message
from gridline.storage.prepared import Prepared

_CASES = Case.__table__  # type: ignore[attr-defined]
_EVENTS = CaseEvent.__table__  # type: ignore[attr-defined]

# Who joined a case is in its timeline: a ``reported_again`` entry per report, with the resident's id
# (``routing.cases.join_case``). Nothing indexes that id, so the candidates come from indexed rows
# first — the cases they opened (cases.resident_id) and the cases their own messages were filed on
# (messages.resident_id: the report that joined one is) — and each candidate's own entries (by
# case_id) say whether they joined it. Without the candidates, the answer to "解决了吗？" asked on
# every report would probe the timeline of every resolved case in the city.
REPORTED_AGAIN = CaseEventKind.REPORTED_AGAIN.value
_MESSAGES = Message.__table__  # type: ignore[attr-defined]


def _joined_by(resident_id: Any) -> ColumnElement[bool]:
    return exists().where(
        _EVENTS.c.case_id == _CASES.c.id,
        _EVENTS.c.kind == REPORTED_AGAIN,
        _EVENTS.c.data["resident_id"].as_integer() == resident_id,
    )


def _reported_by(resident_id: Any) -> ColumnElement[bool]:
    """The cases ``resident_id`` reported: opened, or joined with a report of the same problem."""
    candidates = union_all(
        sa_select(_CASES.c.id).where(_CASES.c.resident_id == resident_id),
        sa_select(_MESSAGES.c.case_id).where(
            _MESSAGES.c.resident_id == resident_id, _MESSAGES.c.direction == "in", _MESSAGES.c.case_id.is_not(None)
        ),
    )
    return and_(
        _CASES.c.id.in_(candidates), or_(_CASES.c.resident_id == resident_id, _joined_by(resident_id))
    )


_LATEST_RESOLVED = Prepared(
    sa_select(_CASES.c.id, exists().where(
        _EVENTS.c.case_id == _CASES.c.id, _EVENTS.c.kind == bindparam("kind"),
        _EVENTS.c.actor == bindparam("actor"), _EVENTS.c.at >= _CASES.c.resolved_at,
    ))
    .where(_CASES.c.status == bindparam("status"), _reported_by(bindparam("resident_id")))
    .order_by(_CASES.c.resolved_at.desc())
    .limit(1)
)


def open_cases_of(session: Session, resident_id: int, *, statuses: Collection[str], limit: int) -> list[Case]:
    """The cases in ``statuses`` the resident reported — opened, or joined with a report of the same
    problem (a ``reported_again`` entry with their id) — newest first."""
    return list(
        session.exec(
            select(Case)
            .where(col(Case.status).in_(list(statuses)), _reported_by(resident_id))
            .order_by(col(Case.created_at).desc())
            .limit(limit)
        )
    )


def written_about_since(
    session: Session, resident_id: int, *, statuses: Collection[str], since: datetime | None = None, limit: int = 1
) -> list[Case]:
    """The cases in ``statuses`` the resident reported (opened or joined) that their messages filed
    on a case are on — the one of the newest message first; only messages after ``since`` count."""
    newest = func.max(col(Message.created_at))
    query = (
        select(Case)
        .join(Message, col(Message.case_id) == col(Case.id))
        .where(Message.resident_id == resident_id, Message.direction == "in", col(Case.status).in_(list(statuses)),
               _reported_by(resident_id))
    )  # fmt: skip
    if since is not None:
        query = query.where(col(Message.created_at) > since)
    return list(session.exec(query.group_by(col(Case.id)).order_by(newest.desc(), col(Case.id).desc()).limit(limit)))


def last_written_about(session: Session, resident_id: int, *, statuses: Collection[str]) -> Case | None:
    """The case in ``statuses`` the resident reported (opened or joined) that their newest message
    is filed on — what a photo sent without words is about; the newest such case when none is."""
    written = written_about_since(session, resident_id, statuses=statuses)
    if written:
        return written[0]
    newest = open_cases_of(session, resident_id, statuses=statuses, limit=1)
    return newest[0] if newest else None


class Reporter(NamedTuple):
    """One resident who reported a case, and the channel they reported it on (None: not recorded)."""

    resident_id: int
    channel: str | None


def of_case(session: Session, case: Case) -> list[Reporter]:
    """Everyone who reported ``case``: who opened it (on the case's channel), then each resident who
    joined it, once, on the channel of their first report (``reported_again`` entries, oldest first)."""
    found: list[Reporter] = []
    if case.resident_id is not None:
        found.append(Reporter(case.resident_id, case.channel))
    seen = {case.resident_id}
    joined = session.exec(
        select(CaseEvent.data)
        .where(CaseEvent.case_id == case.id, CaseEvent.kind == REPORTED_AGAIN)
        .order_by(col(CaseEvent.at), col(CaseEvent.id))
    )
    for data in joined:
        resident_id = data.get("resident_id") if isinstance(data, dict) else None
        if isinstance(resident_id, int) and resident_id not in seen:
            seen.add(resident_id)
            channel = data.get("channel")
            found.append(Reporter(resident_id, channel if isinstance(channel, str) else None))
    return found


def cases_of(session: Session, resident_id: int, limit: int) -> list[Case]:
    """The cases the resident reported (opened or joined), whatever their status, newest first."""
    return list(session.exec(
        select(Case).where(_reported_by(resident_id)).order_by(col(Case.created_at).desc()).limit(limit)
    ))


def latest_resolved_without(
    session: Session, resident_id: int, *, status: str, kind: str, actor: str
) -> Case | None:
    """The case in ``status`` (the resolved one) that the resident reported (opened or joined)
    resolved last, unless its timeline holds an entry of ``kind`` by ``actor`` since it was resolved
    (then None): one narrow SELECT, the case itself only when there is one to give."""
    row = _LATEST_RESOLVED.first(session, {"resident_id": resident_id, "status": status, "kind": kind,
                                           "actor": actor})  # fmt: skip
    if row is None or row[1]:
        return None
    return session.get(Case, row[0])
