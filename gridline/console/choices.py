"""The options of the console's drop-downs, limited to what the viewer may see."""

from __future__ import annotations

from dataclasses import dataclass, field

from gridline.console.http import ConsoleContext
from gridline.domain.lifecycle import CaseStatus, Priority
from gridline.nlu.types import ALL_INTENTS, ISSUE_CATEGORIES, OTHER_CATEGORY
from gridline.routing.directory import Directory
from gridline.routing.duty import reassignment_candidates
from gridline.storage.models import Case, Grid, Staff

CHANNELS = ("telegram", "sms", "voice", "web")
CATEGORIES = (*ISSUE_CATEGORIES, OTHER_CATEGORY)
# Labels a supervisor may give a message: the intents the NLU is trained on.
INTENTS = ALL_INTENTS


@dataclass
class Choices:
    grids: list[tuple[str, str, int]]  # code, label, level
    categories: tuple[str, ...] = CATEGORIES
    intents: tuple[str, ...] = INTENTS
    priorities: tuple[str, ...] = tuple(p.value for p in Priority)
    statuses: tuple[str, ...] = tuple(s.value for s in CaseStatus)
    channels: tuple[str, ...] = CHANNELS
    staff: list[Staff] = field(default_factory=list)


def form_choices(ctx: ConsoleContext, case: Case | None = None) -> Choices:
    """Grids of the viewer's scope for the filters; for a case, the staff it may be reassigned to:
    people of its grid and the grids above it, and the departments of its category."""
    scope = None if ctx.viewer.grid_codes is None else set(ctx.viewer.grid_codes)
    if ctx.viewer.role == "leader":
        scope = set()
    grids: list[Grid] = ctx.tree.ordered(scope)
    choices = Choices(grids=[(g.code, g.name, g.level) for g in grids])
    if case is not None and ctx.viewer.can_manage_cases:
        index = Directory.for_services(ctx.services).grid_index(ctx.session)
        choices.staff = reassignment_candidates(ctx.session, ctx.services.settings, index, case, ctx.now)
    return choices
