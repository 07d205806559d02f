"""A resident who says the problem went away before anyone solved it (居民撤单): 「不用来了，水已经来了」.

Left open, the case would go on paging the leader, then the level above, at any hour, for a problem
that is gone. The resident is asked first which case they mean (``core.conversation.gone``); on
their yes the case is closed as withdrawn: the pending escalation steps are cancelled, the pages
still open are ended and edited to say so, the holder (who may be on the way) is told with the
resident's words, and the timeline keeps them. A case other residents reported too is theirs as
well: it stays open, and the holder is told what this resident said.
"""

from __future__ import annotations

from enum import StrEnum

from gridline.domain.case_events import CaseEventKind
from gridline.domain.lifecycle import OPEN_CASE_STATUSES, CaseStatus
from gridline.i18n.phrases import Phrase
from gridline.kernel.work import Work
from gridline.routing.escalation import cancel_pending_steps
from gridline.routing.pages import expire_other_pages
from gridline.routing.resident_words import tell_holder
from gridline.routing.timeline import publish_case, transition
from gridline.routing.visit_escalation import tell_staff
from gridline.storage import reporters
from gridline.storage.models import Case, Staff


class Withdrawal(StrEnum):
    WITHDRAWN = "withdrawn"  # closed: nobody else reported it
    OTHERS_REPORTED = "others_reported"  # kept open for the neighbours; the holder was told
    NOT_OPEN = "not_open"  # resolved or closed meanwhile: nothing to withdraw


def withdraw(work: Work, case: Case, resident_id: int, words: str) -> Withdrawal:
    """The resident ``resident_id`` says the problem of ``case`` is gone (``words``, as they said it)."""
    if case.status not in OPEN_CASE_STATUSES:
        return Withdrawal.NOT_OPEN
    words = words[:500]
    if any(r.resident_id != resident_id for r in reporters.of_case(work.session, case)):
        tell_holder(work, case, words)
        return Withdrawal.OTHERS_REPORTED
    holder_id = case.acknowledged_by or case.assignee_staff_id
    actor = f"resident:{resident_id}"
    transition(work, case, CaseStatus.CLOSED, kind=CaseEventKind.WITHDRAWN_BY_RESIDENT, actor=actor,
               data={"words": words})  # fmt: skip
    cancel_pending_steps(work, case.id or 0, "withdrawn")
    expire_other_pages(work, case, None, "page.note_withdrawn")
    from gridline.routing.transfers import cancel_open  # the loop builds on these actions

    cancel_open(work, case, actor, "withdrawn")
    holder = work.session.get(Staff, holder_id) if holder_id else None
    if holder is not None and holder.active:
        # Their page is acknowledged, not open: it is not among those edited, and they may be on the way.
        tell_staff(work, holder, Phrase("staff.case_withdrawn", {"ref": case.ref, "text": words}), case_id=case.id)
    publish_case(work, case)
    return Withdrawal.WITHDRAWN
