"""A case by its reference ("查询 W4RGMD", "status W4RGMD 5678"), on any channel.

Only the resident who reported it learns anything — or someone who also gives the last four digits
of the reporting phone (a neighbour who reported for an elderly resident, a relative). Anyone else
gets the same answer as for a reference that does not exist, so references can't be probed.
"""

from __future__ import annotations

import re

from gridline.core.answers import holder
from gridline.domain.lifecycle import CaseStatus
from gridline.i18n.phrases import Phrase
from gridline.kernel.work import Work
from gridline.routing.cases import already_reported
from gridline.routing.deadlines import local_deadline
from gridline.storage import cases
from gridline.storage.models import Case, Resident

QUERY = re.compile(
    r"^\s*(?:查询|查|进度|状态|status|check)\s*[#＃]?\s*([A-Za-z0-9]{6})(?:\s*[/，,\s]\s*(\d{4}))?\s*$", re.IGNORECASE
)


# A reference alone ("W4RGMD", "#W4RGMD"): what a resident pastes from the reply that gave it to them.
# Six characters of the references' alphabet (routing.cases.REF_ALPHABET: no 0/O, 1/I/L) with a
# letter: as written (capitals), or typed in lower case with a digit among them — so a word typed
# in lower case ("thanks") or a number is never taken for one.
BARE_REF = re.compile(
    r"^\s*[#＃]?\s*((?=[A-Z2-9]*[A-Z])[A-HJ-KM-NP-Z2-9]{6}"
    r"|(?=[A-Za-z2-9]*[2-9])(?=[A-Za-z2-9]*[A-Za-z])[A-HJ-KM-NP-Za-hj-km-np-z2-9]{6})\s*$"
)


def parse_query(text: str) -> tuple[str, str | None] | None:
    """(reference, last four digits or None) when ``text`` asks for a case by reference: "查询 W4RGMD",
    "status W4RGMD 5678", or the reference alone."""
    match = QUERY.match(text)
    if match is not None:
        return match.group(1).upper(), match.group(2)
    bare = BARE_REF.match(text)
    return (bare.group(1).upper(), None) if bare is not None else None


def reference_status(work: Work, resident_id: int | None, ref: str, last4: str | None, tz: str) -> Phrase:
    """What the asker may learn of case ``ref``: its category, status, holder and due time."""
    case = cases.by_ref(work.session, ref)
    if case is None or not _may_know(work, case, resident_id, last4):
        return Phrase("status.by_ref_unknown", {"ref": ref})
    return case_status(work, case, tz)


def case_status(work: Work, case: Case, tz: str) -> Phrase:
    """Case ``case``'s category, status, holder and due time, for someone who may know them."""
    due: str | Phrase = Phrase("case.no_deadline")
    if case.resolve_due_at is not None:
        due = local_deadline(tz, case.resolve_due_at)
    return Phrase(
        "status.by_ref",
        {
            "ref": case.ref,
            "category": Phrase(f"category.{case.category}"),
            "status": Phrase(f"case_status.{CaseStatus(case.status).value}"),
            "who": holder(work, case),
            "due": due,
        },
    )


def _may_know(work: Work, case: Case, resident_id: int | None, last4: str | None) -> bool:
    if already_reported(work.session, case, resident_id):  # opened it, or joined it
        return True
    if last4 is None or case.resident_id is None:
        return False
    reporter = work.session.get(Resident, case.resident_id)
    digits = "".join(ch for ch in (reporter.phone or "") if ch.isdigit()) if reporter else ""
    return len(digits) >= 4 and digits[-4:] == last4
