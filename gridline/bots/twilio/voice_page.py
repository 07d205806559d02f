"""Paging a leader by phone: the call reads the case inside one ``<Gather numDigits="1">``.

``/voice/page/{page_id}`` is fetched when the call is answered. An answering machine (Twilio's
machine detection, ``AnsweredBy`` ``machine_*`` / ``fax``) is not the leader: the call hangs up and
the page is reported failed, so the core goes on to the next channel or step. A person hears the
case and 按1接单 / 按2上报; ``/voice/page/{page_id}/key`` acts through the core and says the result.
Silence or another key repeats the case up to ``MAX_PROMPTS`` times.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from fastapi import APIRouter, Request, Response

from gridline.bots.page_text import answer_text, page_texts
from gridline.bots.twilio import twiml
from gridline.bots.twilio.voice_keypad import MAX_PROMPTS, key_prompt, keypad_turn
from gridline.domain.lifecycle import OPEN_CASE_STATUSES, OPEN_PAGE_STATUSES
from gridline.domain.staff_actions import StaffAction
from gridline.edge.params import RowId
from gridline.i18n import t
from gridline.kernel.work import Work, in_transaction
from gridline.routing.actions import act_on_case
from gridline.routing.delivery import page_notice
from gridline.storage import directory
from gridline.storage.models import Case, Page, Staff

if TYPE_CHECKING:
    from gridline.kernel.services import Services

log = logging.getLogger(__name__)
router = APIRouter()

KEY_ACTIONS: dict[str, StaffAction] = {"1": "acknowledge", "2": "escalate"}


async def _page_script(services: Services, page_id: int, call_sid: str) -> tuple[str, str] | tuple[None, str]:
    """(what the call says about the case, language), or (None, language) if the page is over."""
    return await in_transaction(services, _read_page_script, services, page_id, call_sid)


def _read_page_script(
    work: Work, services: Services, page_id: int, call_sid: str
) -> tuple[str, str] | tuple[None, str]:
    session = work.session
    page = session.get(Page, page_id)
    staff = session.get(Staff, page.staff_id) if page else None
    case = session.get(Case, page.case_id) if page else None
    lang = staff.lang if staff else services.settings.default_language
    if page is None or staff is None or case is None:
        return None, lang
    if page.provider_message_id and page.provider_message_id != call_sid:
        log.warning("call %s asked for page %s, which belongs to call %s", call_sid, page_id,
                    page.provider_message_id)
        return None, lang
    if page.status not in OPEN_PAGE_STATUSES or case.status not in OPEN_CASE_STATUSES:
        return None, lang
    grid = directory.grid(session, case.grid_code)
    return page_texts(page_notice(case, staff, grid, page)).full, lang


def _page_prompt(services: Services, page_id: int, lang: str, texts: list[str], n: int) -> str:
    return key_prompt(services, f"/voice/page/{page_id}/key", lang, texts, n)


@router.post("/voice/page/{page_id}")
async def page_call_answered(request: Request, page_id: RowId) -> Response:
    async def step(services: Services, call_sid: str, digits: str) -> str:
        script, lang = await _page_script(services, page_id, call_sid)
        if script is None:
            return twiml.goodbye(services.settings, lang, [t("twilio.page.gone", lang)])
        texts = [t("twilio.page.intro", lang), script, t("twilio.page.keys", lang)]
        return _page_prompt(services, page_id, lang, texts, n=1)

    return await keypad_turn(request, f"page:{page_id}", step, answered=True)


@router.post("/voice/page/{page_id}/key")
async def page_key_pressed(request: Request, page_id: RowId, n: int = 1, s: str = "", quiet: int = 0) -> Response:
    async def step(services: Services, call_sid: str, digits: str) -> str:
        script, lang = await _page_script(services, page_id, call_sid)
        action = KEY_ACTIONS.get(digits[:1])
        if action is not None:
            page = await in_transaction(services, lambda work: work.session.get(Page, page_id))
            if page is None:
                return twiml.goodbye(services.settings, lang, [t("twilio.page.gone", lang)])
            result = await act_on_case(
                services, case_id=page.case_id, staff_id=page.staff_id, action=action,  # type: ignore[arg-type]
                channel="voice", page_id=page_id,
            )
            log.info("page %s: key %s → %s", page_id, digits, result.code)
            return twiml.goodbye(services.settings, lang, [answer_text(result)])
        if script is None:
            return twiml.goodbye(services.settings, lang, [t("twilio.page.gone", lang)])
        if n >= MAX_PROMPTS:
            return twiml.goodbye(services.settings, lang, [t("twilio.page.no_key", lang)])
        lead = t("twilio.page.bad_key", lang) if digits else t("twilio.page.repeat", lang)
        return _page_prompt(services, page_id, lang, [lead, script, t("twilio.page.keys", lang)], n=n + 1)

    return await keypad_turn(request, f"page:{page_id}:key:{n}", step, s=s, quiet=quiet)
