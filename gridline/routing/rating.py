"""The resident's satisfaction rating (满意度) of a resolved case, from a chat choice, a follow-up
call or the console: it closes the case, and a low one opens a 回访."""

from __future__ import annotations

from gridline.domain.lifecycle import CaseStatus
from gridline.kernel.work import Work
from gridline.routing.closure import open_follow_up
from gridline.routing.timeline import publish_case, transition
from gridline.storage.models import Case


def rate_case(
    work: Work, case: Case, rating: int, *, actor: str, comment: str | None = None, low_rating: int = 2
) -> bool:
    """The resident's 1–5 satisfaction rating; closes a resolved case. A low one asks for a 回访."""
    if case.status != CaseStatus.RESOLVED or not 1 <= rating <= 5:
        return False
    case.rating = rating
    case.rating_comment = comment
    transition(work, case, CaseStatus.CLOSED, kind="rated", actor=actor, data={"rating": rating})
    if rating <= low_rating:
        open_follow_up(work, case, "low_rating")
    publish_case(work, case)
    return True
