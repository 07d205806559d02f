"""Who takes part in a transfer: the acting person (``Actor``), the departments a case's category
allows, the return reasons, the grid side that reviews, and the refusals they get."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlmodel import Session

from gridline.domain.lifecycle import (
    StaffRole,
)
from gridline.domain.transfers import (
    OPEN_TRANSFER_STATUSES,
)
from gridline.i18n import has
from gridline.i18n.phrases import Phrase, Spaced, render
from gridline.kernel.notify import said
from gridline.kernel.work import Work
from gridline.routing.action_result import ActionResult
from gridline.routing.deadlines import local_deadline
from gridline.routing.directory import Directory
from gridline.routing.duty import departments_for as departments_for  # 转办 offers 转交's departments
from gridline.routing.escalation import page_targets
from gridline.routing.targets import Target, resolve_targets
from gridline.routing.who_may_act import may_act
from gridline.settings import Settings
from gridline.storage import directory, steps
from gridline.storage import transfers as store
from gridline.storage.models import Case, Staff, Transfer

if TYPE_CHECKING:
    from gridline.kernel.services import Services


@dataclass(frozen=True)
class Actor:
    """Who acts: a staff member on a channel, or a console user (``console:<name>``)."""

    label: str
    lang: str
    staff_id: int | None = None
    console: bool = False  # a console supervisor or admin (the console checked role and scope)

    @classmethod
    def of_staff(cls, staff: Staff) -> Actor:
        return cls(f"staff:{staff.code}", staff.lang, staff.id)

    def staff(self, session: Session) -> Staff | None:
        """The staff member acting from a channel (None for a console user)."""
        return session.get(Staff, self.staff_id) if self.staff_id is not None and not self.console else None


def return_reason_label(code: str, lang: str) -> str:
    return render(return_reason_phrase(code), lang)


def return_reason_phrase(code: str) -> Phrase | str:
    """A return reason as the catalogue words it (a configured code it does not know: the code)."""
    key = f"transfer.return_reason.{code}"
    return Phrase(key) if has(key) else code


def return_reasons_text(settings: Settings) -> Spaced:
    """``1 非本部门职责 2 …``: the numbered list staff choose from."""
    return Spaced(tuple(
        Spaced((n, return_reason_phrase(code))) for n, code in enumerate(settings.departments.return_reasons, 1)
    ))  # fmt: skip


def reason_code(settings: Settings, given: str | int | None) -> str | None:
    """A return reason from its number (1-based) or its code; None when it is not in the list."""
    reasons = settings.departments.return_reasons
    if given is None or given == "":
        return None
    text = str(given).strip()
    if text.isdigit():
        n = int(text)
        return reasons[n - 1] if 1 <= n <= len(reasons) else None
    return text if text in reasons else None


def refuse(code: str, lang: str, case: Case | None = None, **params: Any) -> ActionResult:
    ref = case.ref if case else ""
    return ActionResult(False, code, said(f"transfer.refused.{code}", lang, ref=ref, **params), ref)


def transfer_status_label(status: str, lang: str) -> str:
    return render(transfer_status_phrase(status), lang)


def transfer_status_phrase(status: str) -> Phrase:
    return Phrase(f"transfer.status.{status}")


def open_transfer(session: Session, case: Case) -> Transfer | None:
    return store.latest_in(session, case.id or 0, [s.value for s in OPEN_TRANSFER_STATUSES])


def _round(work: Work, case: Case) -> int:
    return steps.last_round(work.session, case.id or 0)


def page_people(work: Work, case: Case, people: list[Staff], reason: str, why: dict[str, Any]) -> list[str]:
    targets = [Target(person, reason, why) for person in people if person.active]
    done = page_targets(work, case, targets, step_index=0, round_=_round(work, case))
    return [str(entry["name"]) for entry in done if entry.get("page_id")]


def is_department(staff: Staff | None) -> bool:
    return staff is not None and staff.role == StaffRole.DEPARTMENT.value


def of_department(staff: Staff, transfer: Transfer) -> bool:
    return is_department(staff) and staff.active and staff.department == transfer.department


def grid_side(work: Work, services: Services, case: Case, transfer: Transfer) -> list[Staff]:
    """Who speaks for the grid that sent it: the staff member who transferred it, else the grid's
    leaders, else the supervisors on duty."""
    sender = work.session.get(Staff, transfer.requested_by_staff_id) if transfer.requested_by_staff_id else None
    if sender is not None and sender.active:
        return [sender]
    if case.grid_code:
        leaders = directory.active_staff_with_role(work.session, StaffRole.LEADER.value, case.grid_code)
        if leaders:
            return leaders
    index = Directory.for_services(services).grid_index(work.session)
    tz = services.settings.timezone
    return [x.staff for x in resolve_targets(work.session, index, case, "supervisors", work.now, tz)]


def may_review(work: Work, services: Services, case: Case, actor: Actor) -> bool:
    if actor.console:
        return True
    staff = actor.staff(work.session)
    return staff is not None and not is_department(staff) and may_act(services, work, case, staff)

def local_time(settings: Settings, at: datetime | None) -> str:
    """A deadline of the department loop and of extensions, ``2026-12-01 17:00`` (midnight is 24:00
    of the last day: ``deadlines.local_deadline``)."""
    if at is None:
        return "—"
    return local_deadline(settings.timezone, at)
