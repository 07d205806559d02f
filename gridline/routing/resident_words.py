"""A resident's follow-up words on a case someone holds, passed on to that person (居民补充): the
leader who asked 「请问是几楼？」 through Gridline gets 「5楼，东边那户」 without opening the console.

The holder is who acknowledged the case, else its assignee (``core.answers.holder``); a case nobody
holds yet is left alone — its words are on its log, and whoever takes it reads them there. The text
goes to the holder's first channel (``tell_staff``) and says how to answer with the grammar they
already use to relay words: by SMS the page's reply code then the words, on Telegram a reply to the
page message. A phone never paged about the case has no code: it gets the words alone."""

from __future__ import annotations

from gridline.i18n.phrases import Phrase
from gridline.kernel.work import Work
from gridline.routing.visit_escalation import tell_staff
from gridline.storage import pages
from gridline.storage.models import Case, Staff


def tell_holder(work: Work, case: Case, text: str) -> Staff | None:
    """Pass ``text`` (the resident's words) to the case's holder; who was told, or None."""
    holder_id = case.acknowledged_by or case.assignee_staff_id
    staff = work.session.get(Staff, holder_id) if holder_id else None
    if staff is None or not staff.active:
        return None
    facts = {"ref": case.ref, "text": text}

    def by_phone(phone: str) -> Phrase:
        code = pages.code_for_case(work.session, case.id or 0, phone)
        if code is None:
            return Phrase("twilio.staff.resident_adds_no_code", facts)
        return Phrase("twilio.staff.resident_adds", {**facts, "code": code})

    told = tell_staff(work, staff, Phrase("telegram.staff.resident_adds", facts), by_phone=by_phone, case_id=case.id)
    return staff if told is not None else None
