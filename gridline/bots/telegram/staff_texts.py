"""What staff commands say: ``/duty`` (my shifts) and ``/cases`` (my open cases), as phrases (each
line a catalogue key with its facts; the message row keeps them)."""

from __future__ import annotations

from collections.abc import Sequence

from gridline.bots.duty_text import duty_lines
from gridline.i18n import has
from gridline.i18n.phrases import Phrase, lines
from gridline.routing.queries import Duty
from gridline.storage.models import Case


def duty_text(duty: Duty, days: int, timezone: str, grid_names: dict[str, str]) -> Phrase:
    """The header, then one line per shift (``bots.duty_text``)."""
    if not duty.shifts and not duty.handed_to:
        return Phrase("telegram.staff.duty.empty", {"days": days})
    return lines([Phrase("telegram.staff.duty.header", {"days": days}), *duty_lines(duty, timezone, grid_names)])


def cases_text(cases: Sequence[Case]) -> Phrase:
    """One line per case: ``• 75CM89 · 供水 · 已接单 · 红松路30号院``."""
    if not cases:
        return Phrase("telegram.staff.cases.empty")
    said: list[Phrase] = [Phrase("telegram.staff.cases.header")]
    for case in cases:
        facts = {"ref": case.ref, "category": _label("category", case.category),
                 "status": _label("case_status", case.status)}  # fmt: skip
        if case.address_text:
            said.append(Phrase("telegram.staff.cases.line_at", {**facts, "address": case.address_text}))
        else:
            said.append(Phrase("telegram.staff.cases.line", facts))
    return lines(said)


def _label(kind: str, value: str) -> Phrase | str:
    key = f"{kind}.{value}"
    return Phrase(key) if has(key) else value
