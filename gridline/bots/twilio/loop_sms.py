"""The department loop and extensions by SMS: ``签收12``, ``回单12 结果``, ``退单12 2``, ``转办 W4RGMD 说明``…

The grammar is ``gridline.routing.loop_grammar``; which case a text means is found here (the page
with that reply code to this phone, the case with that reference, or the newest page to this phone
the verb fits); whether the person may do it is the core's (``routing.transfers``,
``routing.extensions``). Every loop text gets an answer — done, or why not — and a refused one
changes nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gridline.bots.page_text import answer_phrase
from gridline.domain.transfers import DEPARTMENT_PAGES, EXTENSION_TO_DECIDE, TO_REVIEW
from gridline.i18n.phrases import Phrase
from gridline.kernel.work import Work, in_transaction
from gridline.routing.loop_actions import act_on_loop
from gridline.routing.loop_grammar import LoopText
from gridline.routing.pages import open_pages_for_phone, page_by_code
from gridline.storage import cases
from gridline.storage.models import Case, Page, Staff

if TYPE_CHECKING:
    from gridline.kernel.services import Services

# The pages a verb without a code or reference is most likely about.
FITTING_PAGES: dict[str, frozenset[str]] = {
    "accept": DEPARTMENT_PAGES,
    "reply": DEPARTMENT_PAGES,
    "return": DEPARTMENT_PAGES,
    "approve": frozenset({TO_REVIEW}),
    "reject": frozenset({TO_REVIEW}),
    "grant": frozenset({EXTENSION_TO_DECIDE}),
    "refuse": frozenset({EXTENSION_TO_DECIDE}),
}


def _which(work: Work, phone: str, loop: LoopText, lang: str) -> tuple[Case | None, Page | None, Phrase | None]:
    """The case (and page) the text means, or the answer saying it is unknown."""
    session = work.session
    if loop.ref is not None:
        case = cases.by_ref(session, loop.ref)
        if case is None:
            return None, None, Phrase("loop.sms.unknown_ref", {"ref": loop.ref})
        return case, None, None
    if loop.code is not None:
        page = page_by_code(session, phone, loop.code)
        if page is None:
            return None, None, Phrase("loop.sms.unknown_code", {"code": loop.code})
        return cases.get(session, page.case_id), page, None
    open_pages = open_pages_for_phone(session, phone)
    fitting = FITTING_PAGES.get(loop.verb)
    page = next((p for p in open_pages if fitting is None or p.reason in fitting), None)
    if page is None:
        return None, None, Phrase("loop.sms.no_page")
    return cases.get(session, page.case_id), page, None


def _act(work: Work, services: Services, staff_id: int, phone: str, loop: LoopText) -> tuple[Phrase, int | None]:
    staff = work.session.get(Staff, staff_id)
    if staff is None:
        return Phrase("transfer.refused.not_allowed", {"ref": ""}), None
    lang = staff.lang
    case, page, unknown = _which(work, phone, loop, lang)
    if unknown is not None or case is None:
        return unknown or Phrase("transfer.refused.unknown_case"), None
    result = act_on_loop(work, services, staff, case, page, loop)
    return answer_phrase(result), case.id


async def loop_answer(services: Services, staff_id: int, phone: str, loop: LoopText) -> tuple[Phrase, int | None]:
    """Do what a staff member's loop text asks; the answer to text back and the case it was about."""
    return await in_transaction(services, _act, services, staff_id, phone, loop)
