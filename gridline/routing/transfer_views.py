"""What the loop's pages and the console's case page show (``page_params``, ``panel``), and the
async doors the channels call (one transaction each)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlmodel import Session

from gridline.domain.lifecycle import (
    OPEN_CASE_STATUSES,
)
from gridline.domain.transfers import (
    OPEN_TRANSFER_STATUSES,
)
from gridline.kernel.work import Work, in_transaction
from gridline.routing.action_result import ActionResult
from gridline.routing.transfer_parties import (
    Actor,
    departments_for,
    local_time,
    return_reason_label,
    return_reason_phrase,
    return_reasons_text,
    transfer_status_label,
)
from gridline.routing.transfer_states import PAGE_REASONS
from gridline.routing.transfer_steps import accept, reply, request, return_, review
from gridline.settings import Settings
from gridline.storage import directory
from gridline.storage import transfers as store
from gridline.storage.models import Case, Page, Staff, Transfer

if TYPE_CHECKING:
    from gridline.kernel.services import Services


def page_params(session: Session, settings: Settings, case: Case, page: Page) -> dict[str, Any] | None:
    """What a page of the loop fills its texts with (the department, the note, the reason, the reply):
    facts and phrases, worded by the page's channel in the staff member's language."""
    if page.reason not in PAGE_REASONS:
        return None
    transfer = _latest(session, case)
    if transfer is None:
        return None
    return {
        "department": transfer.department,
        "note": transfer.note or "—",
        "reason": return_reason_phrase(transfer.return_reason) if transfer.return_reason else "—",
        "return_note": transfer.return_note or "",
        "reply": (transfer.reply_text or "")[:300],
        "review_note": transfer.review_note or "",
        "accept_due": local_time(settings, transfer.accept_due_at),
        "due": local_time(settings, transfer.due_at) if transfer.due_at else "—",
        "reasons": return_reasons_text(settings),
    }


def _latest(session: Session, case: Case) -> Transfer | None:
    found = store.for_case(session, case.id or 0)
    return found[-1] if found else None



async def transfer_case(services: Services, case_id: int, actor: Actor, *, department: str | None = None,
                        note: str = "", channel: str = "console") -> ActionResult:  # fmt: skip
    return await in_transaction(services, request, services, case_id, actor, department=department, note=note,
                                channel=channel)  # fmt: skip


async def accept_transfer(services: Services, case_id: int, staff_id: int, *, channel: str,
                          page_id: int | None = None) -> ActionResult:  # fmt: skip
    return await in_transaction(services, accept, services, case_id, staff_id, channel=channel, page_id=page_id)


async def reply_transfer(services: Services, case_id: int, staff_id: int, text: str, *, channel: str,
                         evidence_ids: tuple[int, ...] = ()) -> ActionResult:  # fmt: skip
    return await in_transaction(services, reply, services, case_id, staff_id, text, channel=channel,
                                evidence_ids=evidence_ids)  # fmt: skip


async def return_transfer(services: Services, case_id: int, staff_id: int, reason: str | int | None, *,
                          note: str = "", channel: str) -> ActionResult:  # fmt: skip
    return await in_transaction(services, return_, services, case_id, staff_id, reason, note=note, channel=channel)


async def review_transfer(services: Services, case_id: int, actor: Actor, *, approve: bool, note: str = "",
                          channel: str = "console") -> ActionResult:  # fmt: skip
    return await in_transaction(services, review, services, case_id, actor, approve=approve, note=note,
                                channel=channel)  # fmt: skip


async def staff_actor(services: Services, staff_id: int) -> Actor | None:
    def body(work: Work) -> Actor | None:
        staff = work.session.get(Staff, staff_id)
        return Actor.of_staff(staff) if staff is not None else None

    return await in_transaction(services, body)


@dataclass(frozen=True)
class TransferView:
    transfer: Transfer
    status_label: str
    reason_label: str  # the return reason, in the viewer's language ("" if none)
    accepted_by: str  # names ("" if nobody)
    replied_by: str


@dataclass(frozen=True)
class LoopPanel:
    transfers: list[TransferView]
    open: Transfer | None
    choices: list[str]  # departments a new transfer may go to
    can_transfer: bool
    pending_extension: Any  # an Extension waiting for a decision, or None
    extensions: list[Any]


def panel(session: Session, settings: Settings, index: Any, case: Case, now: datetime, lang: str) -> LoopPanel:
    """The department loop and extensions of one case, for its console page."""
    rows = store.for_case(session, case.id or 0)
    names = directory.staff_names(session, {sid for r in rows for sid in (r.accepted_by, r.replied_by) if sid})
    views = [
        TransferView(
            transfer=r,
            status_label=transfer_status_label(r.status, lang),
            reason_label=return_reason_label(r.return_reason, lang) if r.return_reason else "",
            accepted_by=names.get(r.accepted_by or 0, ""),
            replied_by=names.get(r.replied_by or 0, ""),
        )
        for r in rows
    ]
    current = next((r for r in reversed(rows) if r.status in OPEN_TRANSFER_STATUSES), None)
    choices = departments_for(session, settings, index, case, now)
    extensions = store.extensions_of(session, case.id or 0)
    pending = next((e for e in reversed(extensions) if e.status == "requested"), None)
    return LoopPanel(
        transfers=views, open=current, choices=choices,
        can_transfer=current is None and bool(choices) and case.status in OPEN_CASE_STATUSES,
        pending_extension=pending, extensions=extensions,
    )  # fmt: skip
