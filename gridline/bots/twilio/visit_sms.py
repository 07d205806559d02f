"""A grid worker logs a visit by SMS: ``走访 3-2-501 正常`` / ``visit 3-2-501 problem <what>``.

The grammar is ``gridline.routing.visit_grammar``; who may log which household is the core's
(``routing.visits.log_visit``). Every text that starts with the keyword gets an answer: logged, or
what is wrong (the format, an unknown room, another grid's household) with nothing stored.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gridline.i18n import t
from gridline.kernel.work import Work, in_transaction
from gridline.routing.visit_grammar import parse_visit_text
from gridline.routing.visits import VisitReport, record_visit
from gridline.storage.models import Staff

if TYPE_CHECKING:
    from gridline.kernel.services import Services


def _lang(work: Work, staff_id: int) -> str:
    staff = work.session.get(Staff, staff_id)
    return staff.lang if staff else "zh-CN"


async def visit_answer(services: Services, staff_id: int, text: str) -> tuple[str, int | None]:
    """Log the visit a staff member's SMS describes; the answer to text back and the case it opened."""
    parsed = parse_visit_text(text)
    if parsed.error is not None or parsed.room is None or parsed.outcome is None:
        lang = await in_transaction(services, _lang, staff_id)
        return t(f"visits.sms.{parsed.error or 'no_room'}", lang, room=parsed.room_text), None
    report = VisitReport(outcome=parsed.outcome, note=parsed.note, room=parsed.room, channel="sms")
    logged = await record_visit(services, report, staff_id=staff_id)
    return logged.text, logged.case_id
