"""Filters of the case and conversation lists, parsed from the query string.

The same :class:`CaseFilters` drives the list, the CSV export and every drill-down link of the
dashboard, so a figure and the cases behind it can never disagree; ``storage.case_search`` turns
them into SQL.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from datetime import date
from typing import Any

from gridline.clock import local_day_bounds
from gridline.edge.params import sane_date
from gridline.edge.text import ascii_int
from gridline.storage.case_search import CaseCriteria, like_pattern

__all__ = ["MAX_PAGE", "PAGE_SIZE", "CaseFilters", "like_pattern", "local_day_bounds", "parse_date"]

PAGE_SIZE = 50
# A page number past this is no list anyone browses (and OFFSET must stay within BIGINT).
MAX_PAGE = 100_000
RATING_CHOICES = ("1", "2", "3", "4", "5", "low", "rated", "none")
SLA_CHOICES = ("breached", "ack", "resolve", "met")


def parse_date(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return sane_date(date.fromisoformat(value.strip()))
    except ValueError:
        return None


def _flag(value: str | None) -> bool:
    return (value or "").lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class CaseFilters(CaseCriteria):
    """The case list's criteria as the query string carries them."""

    @classmethod
    def from_query(cls, params: Mapping[str, str]) -> CaseFilters:
        page = params.get("page", "1")
        return cls(
            grid=params.get("grid", "").strip(),
            category=params.get("category", "").strip(),
            priority=params.get("priority", "").strip(),
            status=params.get("status", "").strip(),
            channel=params.get("channel", "").strip(),
            date_from=parse_date(params.get("from")),
            date_to=parse_date(params.get("to")),
            unacknowledged=_flag(params.get("unacked")),
            acknowledged=_flag(params.get("acked")),
            resolved=_flag(params.get("resolved")),
            sla=params.get("sla", "") if params.get("sla", "") in SLA_CHOICES else "",
            low_confidence=_flag(params.get("lowconf")),
            rating=params.get("rating", "") if params.get("rating", "") in RATING_CHOICES else "",
            staff=params.get("staff", "").strip(),
            merged="exclude" if params.get("merged") == "exclude" else "",
            q=params.get("q", "").strip()[:200],
            page=ascii_int(page, lowest=1, highest=MAX_PAGE) or 1,
        )

    def to_query(self, **changes: Any) -> dict[str, str]:
        """The query-string form (only non-empty values), with ``changes`` applied."""
        merged = replace(self, **changes) if changes else self
        out: dict[str, str] = {}
        names = {"date_from": "from", "date_to": "to", "unacknowledged": "unacked", "acknowledged": "acked",
                 "low_confidence": "lowconf"}
        for f in fields(merged):
            value = getattr(merged, f.name)
            key = names.get(f.name, f.name)
            if isinstance(value, bool):
                if value:
                    out[key] = "1"
            elif isinstance(value, date):
                out[key] = value.isoformat()
            elif f.name == "page":
                if value != 1:
                    out[key] = str(value)
            elif value:
                out[key] = str(value)
        return out
