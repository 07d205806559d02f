"""Answers built from the directory and the case book: which grid, who is on duty, my open cases."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gridline.domain.lifecycle import OPEN_CASE_STATUSES, CaseStatus
from gridline.i18n.phrases import Lines, Phrase
from gridline.kernel.work import Work
from gridline.routing.rota import who_is_on_duty
from gridline.storage import directory, directory_cache, people, reporters
from gridline.storage.models import Case, Staff

if TYPE_CHECKING:
    from gridline.kernel.services import Services


def grid_name(work: Work, grid_code: str | None) -> str:
    if not grid_code:
        return "—"
    grid = directory.grid(work.session, grid_code)
    return grid.name if grid else grid_code


def staff_role(role: str | None) -> Phrase:
    """A staff role as a resident reads it: 网格长, 网格员 … (``staff_role.*``)."""
    return Phrase(f"staff_role.{role if role in STAFF_ROLES else 'member'}")


STAFF_ROLES = frozenset({"leader", "member", "level2_contact", "level1_contact", "supervisor", "department"})


def leader_now(services: Services, work: Work, grid_code: str) -> Staff | None:
    on_duty = who_is_on_duty(work.session, grid_code, work.now, services.settings.timezone, role="primary")
    if on_duty:
        return on_duty[0]
    return people.grid_leader(work.session, grid_code)


def grid_leader(work: Work, grid_code: str) -> Staff | None:
    """The grid's leader (网格长) on record, from the directory the process keeps."""
    leaders = directory_cache.active_staff_with_role(work.session, "leader", grid_code)
    return leaders[0] if leaders else None


def registered(services: Services, work: Work, grid_code: str) -> Phrase:
    """"Registered: you are in grid …; your grid leader is …" — the grid's leader on record (at night
    the one on duty may be a team member: "who is my grid leader?" names both)."""
    on_duty = leader_now(services, work, grid_code)
    leader = grid_leader(work, grid_code) or on_duty
    return Phrase("registration.done", {"grid": grid_name(work, grid_code), "leader": leader.name if leader else "—"})


def find_leader(services: Services, work: Work, grid_code: str | None) -> Phrase:
    """Which grid the resident is in, who is on duty there and how to reach them; when the one on duty
    is not the grid's leader (nights, weekends, leave), the leader's name too."""
    if not grid_code:
        return Phrase("find_leader.unknown_grid")
    on_duty = leader_now(services, work, grid_code)
    hotline = services.settings.cases.hotline_display
    contact = on_duty.phone if on_duty and services.settings.cases.disclose_leader_phone and on_duty.phone else hotline
    leader = grid_leader(work, grid_code)
    facts: dict[str, object] = {"grid": grid_name(work, grid_code), "contact": contact}
    if on_duty is not None and leader is not None and on_duty.id != leader.id:
        who = {"leader": leader.name, "who": on_duty.name, "role": staff_role(on_duty.role)}
        return Phrase("find_leader.answer_on_duty", {**facts, **who})
    return Phrase("find_leader.answer", {**facts, "leader": on_duty.name if on_duty else "—"})


def open_cases(work: Work, resident_id: int) -> Phrase:
    """The open cases the resident reported (opened or joined), up to five, one a line: reference,
    category, status, who has it."""
    statuses = [s.value for s in OPEN_CASE_STATUSES]
    cases = reporters.open_cases_of(work.session, resident_id, statuses=statuses, limit=5)
    if not cases:
        return Phrase("status.none")
    lines = []
    for case in cases:
        lines.append(
            Phrase(
                "status.line",
                {
                    "ref": case.ref,
                    "category": Phrase(f"category.{case.category}"),
                    "status": Phrase(f"case_status.{CaseStatus(case.status).value}"),
                    "who": holder(work, case),
                },
            )
        )
    header = Phrase("status.header", {"count": len(cases)})
    return Phrase("status.open", {"header": header, "cases": Lines(tuple(lines))})


def holder(work: Work, case: Case) -> str | Phrase:
    """Who has the case now (who acknowledged it, else to whom it is assigned), or 「待接单」 while
    the page is still out — a resident reads 处理人：待接单, never a bare dash."""
    holder_id = case.acknowledged_by or case.assignee_staff_id
    person = work.session.get(Staff, holder_id) if holder_id else None
    return person.name if person is not None else Phrase("case.holder_pending")
