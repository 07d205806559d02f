"""Answers built from the directory and the case book: which grid, who is on duty, my open cases."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gridline.domain.lifecycle import OPEN_CASE_STATUSES, CaseStatus
from gridline.i18n.phrases import Lines, Phrase
from gridline.kernel.work import Work
from gridline.routing.rota import who_is_on_duty
from gridline.storage import cases as case_store
from gridline.storage import directory, people
from gridline.storage.models import Staff

if TYPE_CHECKING:
    from gridline.kernel.services import Services


def grid_name(work: Work, grid_code: str | None) -> str:
    if not grid_code:
        return "—"
    grid = directory.grid(work.session, grid_code)
    return grid.name if grid else grid_code


def leader_now(services: Services, work: Work, grid_code: str) -> Staff | None:
    on_duty = who_is_on_duty(work.session, grid_code, work.now, services.settings.timezone, role="primary")
    if on_duty:
        return on_duty[0]
    return people.grid_leader(work.session, grid_code)


def registered(services: Services, work: Work, grid_code: str) -> Phrase:
    """"Registered: you are in grid …; your grid leader is …"."""
    leader = leader_now(services, work, grid_code)
    return Phrase("registration.done", {"grid": grid_name(work, grid_code), "leader": leader.name if leader else "—"})


def find_leader(services: Services, work: Work, grid_code: str | None) -> Phrase:
    """Which grid the resident is in, who is on duty there and how to reach them."""
    if not grid_code:
        return Phrase("find_leader.unknown_grid")
    leader = leader_now(services, work, grid_code)
    hotline = services.settings.cases.hotline_display
    contact = leader.phone if leader and services.settings.cases.disclose_leader_phone and leader.phone else hotline
    return Phrase(
        "find_leader.answer",
        {"grid": grid_name(work, grid_code), "leader": leader.name if leader else "—", "contact": contact},
    )


def open_cases(work: Work, resident_id: int) -> Phrase:
    """The resident's open cases (up to five), one a line: reference, category, status, who has it."""
    statuses = [s.value for s in OPEN_CASE_STATUSES]
    cases = case_store.open_for_resident(work.session, resident_id, statuses=statuses, limit=5)
    if not cases:
        return Phrase("status.none")
    lines = []
    for case in cases:
        holder = work.session.get(Staff, case.acknowledged_by) if case.acknowledged_by else None
        lines.append(
            Phrase(
                "status.line",
                {
                    "ref": case.ref,
                    "category": Phrase(f"category.{case.category}"),
                    "status": Phrase(f"case_status.{CaseStatus(case.status).value}"),
                    "who": holder.name if holder else "—",
                },
            )
        )
    header = Phrase("status.header", {"count": len(cases)})
    return Phrase("status.open", {"header": header, "cases": Lines(tuple(lines))})
