"""What the inbox shows: the staff member's open pages and held cases, as plain data for the template."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from gridline.console.grids import GridTree
from gridline.domain.lifecycle import UNACKNOWLEDGED_STATUSES, StaffRole
from gridline.domain.transfers import OPEN_TRANSFER_STATUSES
from gridline.routing.duty import reassignment_candidates
from gridline.routing.grids import GridIndex
from gridline.settings import Settings
from gridline.storage import staff_inbox as store
from gridline.storage import transfers as transfer_store
from gridline.storage.models import Case, Staff

STAFF_ACTIONS = ("acknowledge", "resolve", "escalate", "reassign")


@dataclass(frozen=True)
class InboxItem:
    case: Case
    page_id: int | None
    page_channel: str | None
    paged_at: datetime | None
    grid_name: str
    actions: tuple[str, ...]
    reassign_to: tuple[Staff, ...]


def actions_for(case: Case) -> tuple[str, ...]:
    """Buttons worth showing: 接单 only while nobody has; nothing once resolved or closed."""
    if case.status in ("resolved", "closed"):
        return ()
    if case.status in {s.value for s in UNACKNOWLEDGED_STATUSES}:
        return STAFF_ACTIONS
    return ("resolve", "escalate", "reassign")


@dataclass(frozen=True)
class Handing:
    """What whom-to-hand-a-case-to needs (``routing.duty.reassignment_candidates``)."""

    settings: Settings
    index: GridIndex
    now: datetime


def load_inbox(
    session: Session, staff_id: int, tree: GridTree, handing: Handing
) -> tuple[list[InboxItem], list[InboxItem]]:
    """(open pages, held cases) of one staff member, newest first."""
    pages: list[InboxItem] = []
    seen: set[int] = set()
    for page, case in store.open_pages(session, staff_id):
        if case.id in seen:
            continue
        seen.add(case.id or 0)
        pages.append(_item(session, tree, handing, case, staff_id, page.id, page.channel, page.created_at))
    held = [_item(session, tree, handing, case, staff_id, None, None, None)
            for case in store.held_cases(session, staff_id, exclude=seen)]
    return pages, held


def _in_the_loop(session: Session, staff_id: int, case: Case) -> bool:
    """A department's case while it is transferred: it answers by 签收 / 回单 / 退单 (the loop form), and
    every button of ``act_on_case`` would only say so (``use_loop``)."""
    staff = session.get(Staff, staff_id)
    return bool(staff and staff.role == StaffRole.DEPARTMENT.value and transfer_store.latest_in(
        session, case.id or 0, [s.value for s in OPEN_TRANSFER_STATUSES]))


def _item(session: Session, tree: GridTree, handing: Handing, case: Case, staff_id: int, page_id: int | None,
          channel: str | None, at: datetime | None) -> InboxItem:
    me = session.get(Staff, staff_id)
    whom = reassignment_candidates(session, handing.settings, handing.index, case, handing.now, handing_over=me)
    return InboxItem(
        case=case, page_id=page_id, page_channel=channel, paged_at=at,
        grid_name=tree.name(case.grid_code) if case.grid_code else "—",
        actions=() if _in_the_loop(session, staff_id, case) else actions_for(case),
        reassign_to=tuple(whom),
    )
